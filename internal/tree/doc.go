// Package tree holds slogwf's data contracts and the one tree builder: the
// journal line (an Event: encode helpers and Decode), the tree that the
// live handler feeds and a replay of journals rebuilds (Tree, Builder),
// the tree file it writes, the usage, loss and counts it rolls up, and the
// names both use (kinds, statuses, levels, file names). The root package,
// the CLI and the OpenTelemetry export import it; it imports none of them.
package tree
