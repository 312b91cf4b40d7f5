// Package logging writes the service's log as pino does for the TypeScript services: one JSON object
// per line on stdout, with a numeric `level` (30 info, 40 warn, …), `time` in milliseconds since the
// epoch, `msg`, `service` and the call's fields. scripts/lib/log-format.ts renders these lines like the
// others under `make up`.
package logging

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
)

// Levels beyond slog's four, with pino's names.
const (
	LevelTrace = slog.Level(-8)
	LevelFatal = slog.Level(12)
	// levelSilent is above every level a line is written at.
	levelSilent = slog.Level(math.MaxInt32)
)

var byName = map[string]slog.Level{
	"trace": LevelTrace, "debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn,
	"error": slog.LevelError, "fatal": LevelFatal, "silent": levelSilent,
}

// pinoLevel maps a slog level to pino's number: trace 10, debug 20, info 30, warn 40, error 50, fatal 60.
func pinoLevel(level slog.Level) int {
	switch {
	case level <= LevelTrace:
		return 10
	case level <= slog.LevelDebug:
		return 20
	case level <= slog.LevelInfo:
		return 30
	case level <= slog.LevelWarn:
		return 40
	case level <= slog.LevelError:
		return 50
	default:
		return 60
	}
}

// New returns the root logger of the process, writing to stdout at `level` (a pino level name; unknown
// names mean info), every line tagged with `service`.
func New(service, level string) *slog.Logger {
	return NewTo(os.Stdout, service, level)
}

// NewTo is New writing to w, for tests.
func NewTo(w io.Writer, service, level string) *slog.Logger {
	min, ok := byName[level]
	if !ok {
		min = slog.LevelInfo
	}
	handler := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: min, ReplaceAttr: pinoAttr})
	return slog.New(handler).With("pid", os.Getpid(), "service", service)
}

// pinoAttr rewrites slog's built-in attributes into pino's shape; errors become {type, message}.
func pinoAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.Int64(slog.TimeKey, a.Value.Time().UnixMilli())
	case slog.LevelKey:
		level, _ := a.Value.Any().(slog.Level)
		return slog.Int(slog.LevelKey, pinoLevel(level))
	}
	if err, ok := a.Value.Any().(error); ok {
		return slog.Group(a.Key, slog.String("type", "Error"), slog.String("message", err.Error()))
	}
	return a
}

// Fatal logs at pino's fatal level.
func Fatal(log *slog.Logger, msg string, args ...any) {
	log.Log(context.Background(), LevelFatal, msg, args...)
}
