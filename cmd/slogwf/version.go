package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// runVersion prints the version of slogwf: as the Go module it was built
// from says it (go install …/cmd/slogwf@v1.2.3 gives v1.2.3), the commit
// it was built at when the build knows it, and the Go that built it.
func runVersion(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		fmt.Fprint(stdout, "usage: slogwf version\n\nVersion prints the version of slogwf, the commit it was built at\nwhen the build knows it, and the version of the Go that built it.\n")
		return flag.ErrHelp
	case len(args) != 0:
		return usageError{errors.New("no arguments")}
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("the binary holds no build information")
	}
	fmt.Fprintln(stdout, version(info))
	return nil
}

// version returns the line that slogwf version prints of info.
func version(info *debug.BuildInfo) string {
	v := "slogwf " + info.Main.Version // "(devel)" when built from a checkout
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if rev != "" && !strings.Contains(info.Main.Version, rev) { // Go 1.24 puts it in a pseudo-version
		v += " " + rev + modified
	}
	return v + " " + info.GoVersion
}
