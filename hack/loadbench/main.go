// Command loadbench is the controller load benchmark behind `make
// bench-controller`; see internal/loadbench. It needs bin/kube-apiserver,
// bin/etcd (`make envtest-assets`) and bin/frrgen (`make build`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/frrgen/frrgen/internal/loadbench"
)

func main() {
	var c loadbench.Config
	var controllerArgs string
	flag.IntVar(&c.Nodes, "nodes", 10, "speaker nodes")
	flag.IntVar(&c.Services, "services", 1000, "LoadBalancer Services in the cluster before the controller starts")
	flag.IntVar(&c.NewServices, "new-services", 200, "Services added, and timed, once the controller has converged")
	flag.Float64Var(&c.Rate, "rate", 20, "new Services per second")
	flag.DurationVar(&c.Timeout, "timeout", 30*time.Minute, "limit for the whole run")
	flag.StringVar(&c.Frrgen, "frrgen", "", "the frrgen binary (default <repo>/bin/frrgen)")
	flag.StringVar(&controllerArgs, "controller-args", "", "extra flags for `frrgen controller`, space-separated")
	flag.StringVar(&c.WorkDir, "workdir", "", "directory for the kubeconfig and the controller's log (default: a temporary one, removed after a successful run)")
	flag.DurationVar(&c.MaxSettle, "max-settle", 5*time.Minute, "longest wait for the controller to become quiet, after converging and after the burst")
	flag.DurationVar(&c.Progress, "progress", 10*time.Second, "interval of progress lines")
	flag.StringVar(&c.CPUProfile, "cpu-profile", "", "write the controller's CPU profile of the burst to this file (through its --pprof-bind-address)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "loadbench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	c.ControllerArgs = strings.Fields(controllerArgs)

	// Ctrl-C or SIGTERM ends the run early; Run still stops everything.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := loadbench.Run(ctx, c); err != nil {
		fmt.Fprintf(os.Stderr, "loadbench: %v\n", err)
		stop()
		os.Exit(1)
	}
}
