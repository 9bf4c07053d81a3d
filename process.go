package slogwf

import (
	"context"
	"os"
	"strings"
	"time"
)

// EnvParent is the environment variable that carries a workflow and a
// scope to a child process: <workflow ID>/<scope ID>.
const EnvParent = "SLOGWF_PARENT"

// Environ returns the environment entries that carry the workflow and the
// innermost scope of ctx to a child process, for cmd.Env; none outside a
// workflow. In the child, ContextFromEnv takes them up.
func Environ(ctx context.Context) []string {
	s := FromContext(ctx)
	if s == nil || s.wf == nil {
		return nil
	}
	s.wf.spawned.CompareAndSwap(0, time.Now().UnixNano())
	return []string{EnvParent + "=" + s.wf.id + "/" + s.id}
}

// ContextFromEnv returns a context under the scope that a parent process
// passed in the environment with Environ. Records logged with it, and the
// scopes started under it, go to the parent's workflow: in this process's
// own journal, which `slogwf build` merges with the parent's. The parent's
// scopes stay the parent's to end. Without the variable, or with a
// malformed one (logged as a warning), ctx comes back unchanged.
func ContextFromEnv(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	v := os.Getenv(EnvParent)
	if v == "" {
		return ctx
	}
	wf, id, ok := strings.Cut(v, "/")
	if !ok || !validID(wf) || !validID(id) {
		loggerFrom(ctx).WarnContext(ctx, "slogwf: malformed "+EnvParent+": want <workflow ID>/<scope ID>", "value", v)
		return ctx
	}
	l := loggerFrom(ctx)
	w := &Scope{kind: KindWorkflow, id: wf, name: wf[len(wf)-min(8, len(wf)):], logger: l, remote: true}
	w.place()
	s := w
	if id != wf {
		// Its kind is unknown here; as a parent it works as an interaction.
		s = &Scope{kind: KindInteraction, id: id, parent: w, name: "…", logger: l, remote: true}
		s.place()
	}
	ctx = context.WithValue(ctx, ctxKey{}, s)
	w.ctx, s.ctx = ctx, ctx
	return ctx
}

// validID reports whether id can be a scope ID: UUIDs and the like.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
