package manager

import (
	"fmt"
	"io"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// NewLogger is the process logger for --log-format (json or console) and
// --log-level (debug, info or error). Stack traces are for debugging: only
// at debug level do errors carry one; otherwise only a panic does.
func NewLogger(format, level string, out io.Writer) (logr.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil || (lvl != zapcore.DebugLevel && lvl != zapcore.InfoLevel && lvl != zapcore.ErrorLevel) {
		return logr.Logger{}, fmt.Errorf("--log-level must be debug, info or error, not %q", level)
	}
	options := []zap.Opts{zap.Level(lvl), zap.WriteTo(out), zap.StacktraceLevel(zapcore.DPanicLevel)}
	if lvl == zapcore.DebugLevel {
		options = append(options, zap.StacktraceLevel(zapcore.ErrorLevel))
	}
	switch format {
	case "json":
		options = append(options, zap.JSONEncoder())
	case "console":
		options = append(options, zap.ConsoleEncoder())
	default:
		return logr.Logger{}, fmt.Errorf("--log-format must be json or console, not %q", format)
	}
	return zap.New(options...), nil
}
