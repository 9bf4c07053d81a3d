package main

import (
	"context"
	"log/slog"

	"github.com/slogwf/slogwf"
)

func main() {
	h, err := slogwf.New(&slogwf.Options{Dir: "logs"}) // tint console on stderr, trees in logs/
	if err != nil {
		panic(err)
	}
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research", "user", "ana")
	defer wf.End()
	ctx, ia := slogwf.StartInteraction(ctx, "planner", slogwf.InputKey, "plan a trip")
	slog.InfoContext(ctx, "calling model", slogwf.Model("gpt-4o"), slogwf.Tokens(812, 95))
	slogwf.Semantic(ctx, "plan contradicts the user's constraint")
	ia.End(slogwf.OutputKey, "fly, then walk")
}
