/*
Package slogwf is a [log/slog] handler for programs that run LLM agents.

A program sets it once and keeps calling slog as it always has:

	h, err := slogwf.New(&slogwf.Options{Dir: "logs"}) // tint console on stderr, trees in logs/
	if err != nil {
		return err
	}
	defer h.Close()
	slog.SetDefault(slog.New(h))

Records logged with a context find the workflow, iteration, interaction
(one agent's turn) and action they belong to in that context. The handler
prints them on a colored console ([github.com/lmittmann/tint]) with the
scope path and a stable color per agent, and builds one JSON tree per
workflow under Dir, with token usage, time, cost and errors rolled up at
every level, from an append-only journal that survives a crash.

# Scopes

Scopes work like OpenTelemetry spans; in Go, a context manager is a
context and a deferred End:

	ctx, wf := slogwf.StartWorkflow(ctx, "research", "user", "ana")
	defer wf.End()
	ctx, it := slogwf.StartIteration(ctx) // numbered 1, 2, …
	defer it.End()
	ctx, ia := slogwf.StartInteraction(ctx, "planner", slogwf.InputKey, prompt)
	slog.InfoContext(ctx, "calling model", slogwf.Model("gpt-4o"), slogwf.Tokens(812, 95))
	ia.End(slogwf.OutputKey, plan) // or ia.Fail(err)

Or without Start and End, with a function that returns what the agent made:

	plan, err := slogwf.Interact(ctx, "planner", func(ctx context.Context) (string, error) {
		return callModel(ctx, prompt)
	})

Ending a scope ends the open scopes under it as incomplete; [Handler.Close]
ends the workflows still running the same way.

# Records without a scoped context

Attributes place a record in a node too, and win over the context:

	logger.With(slogwf.WorkflowID(wf.ID()), slogwf.InteractionID(ia.ID())).Info("tool done")

A record's place is decided once, and the console, the journal and the
tree all show it there: a record logged in a scope that has ended goes,
marked late, to the nearest open scope above it.

# Text and JSON lines

The lines of workflows that the text and JSON consoles (Options.Format)
write, and those that the handler given to [NewHandler] gets, carry where
each went under the keys that place a record: [WorkflowIDKey], and the
innermost scope's ID under its kind's key ([IterationIDKey],
[InteractionIDKey], [ActionIDKey]), so that a log aggregator finds the
lines of one workflow or one agent's turn, and a line logged again with its
attributes goes to the same node:

	{"time":"…","level":"INFO","msg":"calling model","workflow_id":"01a2…","interaction_id":"01a2…","model":"gpt-4o"}

A key that the record or its logger has already is not written twice; a
record outside any workflow is the line slog writes.

# LLM calls

[Transport] wraps the [http.RoundTripper] of the client that an LLM SDK
takes. Each request becomes an action under the innermost scope of its
context (llm.chat, llm.messages, …), with the provider, the models asked
for and answering, tokens, cost from Options.Prices, the time to the
answer's headers, the prompt and the completion, and the error of a
failed call:

	client := &http.Client{Transport: slogwf.Transport(nil)}
	resp, err := client.Do(req.WithContext(ctx)) // an action under ctx's scope

It reads OpenAI, Anthropic, Ollama and Gemini, whole and streamed, and
passes the server's bytes on as they come. [WithCapture] sets how much of
each prompt and completion it keeps (8 KiB by default), [WithoutCapture]
none; the transport applies it itself, however the handler is wrapped.
Header values and the URL's query never reach the log.

# Child processes

A workflow may span processes. [Environ] carries the workflow and the
current scope to a child in one environment variable, and
[ContextFromEnv] takes them up in the child, whose records and scopes then
go to the parent's workflow, in the child's own journal:

	cmd.Env = append(os.Environ(), slogwf.Environ(ctx)...) // in the parent
	ctx := slogwf.ContextFromEnv(context.Background())    // in the child

The parent's tree takes in the children's journals in its Dir; `slogwf
build` merges the journals of all processes into the same tree.

# OpenTelemetry

Options.Exporter takes each scope as it ends: the Exporter of package
github.com/slogwf/slogwf/otel sends it to an OpenTelemetry backend as a
span, by the GenAI semantic conventions, each workflow one trace. This
package imports no OpenTelemetry; `slogwf export -otlp` sends the same
spans from the journals.

# Services

A service that starts a workflow per request keeps memory, open files and
files on disk bounded: the process writes one journal, in segments, for
all its workflows; a workflow that ended keeps nothing in memory; its final
tree is written off the caller's goroutine ([Handler.Close] waits for them
all). Options.MaxAge and Options.MaxBytes remove the files of workflows
that ended, at [New] and periodically:

	h, err := slogwf.New(&slogwf.Options{Dir: "/var/log/agents", MaxAge: 7 * 24 * time.Hour})

# Semantic warnings

[Semantic] logs a note about meaning rather than mechanics. It keeps its
level (WARN unless [SemanticLog] says otherwise), is flagged in the tree and
counted in counts.semantic, and has its own badge on the console:

	slogwf.Semantic(ctx, "plan contradicts the user's constraint", "constraint", c)

# Levels

[LevelTrace] and [LevelNotice] sit beside slog's four. [ParseLevel] reads
level names in any case and numbers; [ReplaceLevel] names them in slog's own
JSON and text handlers.

# Environment

SLOGWF_DISABLE=1 turns the tree off (scopes become no-ops; the console goes
on). SLOGWF_DIR and SLOGWF_LEVEL set Options.Dir and Options.Level when
the options leave them empty.
*/
package slogwf
