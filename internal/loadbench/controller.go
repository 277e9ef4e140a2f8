package loadbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/frrgen/frrgen/internal/procgroup"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100
// on every Linux architecture Go supports (the kernel hides its real HZ).
const clockTicks = 100

// controllerProcess is the real `frrgen controller`, in its own process
// group, logging to a file.
type controllerProcess struct {
	group      *procgroup.Group
	logPath    string
	metricsURL string // "" when the metrics endpoint is off
	pprofURL   string // "" when no profile was asked for
}

// startController runs binary's controller against kubeconfig. The
// kubeconfig is given as $KUBECONFIG, not --kubeconfig: the controller then
// builds its client as it does in a cluster (controller-runtime's
// GetConfig, no client-side rate limit), where --kubeconfig would get
// client-go's default of 5 requests/s. Flags are chosen from the binary's
// --help, so the driver follows the flags the controller has.
func startController(binary, kubeconfig, logPath string, profile bool, extraArgs []string) (*controllerProcess, error) {
	help, err := exec.Command(binary, "controller", "--help").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s controller --help: %w: %s", binary, err, help)
	}
	has := func(flag string) bool {
		return strings.Contains(string(help), "--"+flag+" ") || strings.Contains(string(help), "--"+flag+"=")
	}
	args := []string{binary, "controller", "--leader-elect=false", "--health-probe-bind-address=0"}
	p := &controllerProcess{logPath: logPath}
	// Plain-HTTP metrics on a free loopback port (secure metrics, where the
	// controller has them, turned off); a scrape that fails is reported, not
	// fatal.
	metrics := "0"
	if port, err := freePort(); err == nil {
		metrics = fmt.Sprintf("127.0.0.1:%d", port)
		p.metricsURL = "http://" + metrics + "/metrics"
	}
	if has("metrics-secure") {
		args = append(args, "--metrics-secure=false")
	}
	// The driver writes the Services' ingress IPs itself, as MetalLB's
	// controller would; frrgen's own allocator would race with it.
	if has("allocate") {
		args = append(args, "--allocate=false")
	}
	args = append(args, "--metrics-bind-address="+metrics)
	if profile {
		if !has("pprof-bind-address") {
			return nil, fmt.Errorf("%s controller has no --pprof-bind-address flag to profile with", binary)
		}
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		args = append(args, "--pprof-bind-address="+addr)
		p.pprofURL = "http://" + addr + "/debug/pprof/profile"
	}
	args = append(args, extraArgs...)
	g, err := procgroup.Start(logPath, []string{"KUBECONFIG=" + kubeconfig}, args...)
	if err != nil {
		return nil, err
	}
	p.group = g
	return p, nil
}

// stop ends the controller's process group.
func (p *controllerProcess) stop() { p.group.Stop(10 * time.Second) }

// exited returns a description of the controller's exit, or "" while it
// runs.
func (p *controllerProcess) exited() string {
	if !p.group.Exited() {
		return ""
	}
	return fmt.Sprintf("the controller exited (%v); its log is %s:\n%s", p.group.Err(), p.logPath, tail(p.logPath, 20))
}

// usage is the controller's CPU time (user + system, with its reaped
// children's) and its peak resident set size.
type usage struct {
	CPU     time.Duration
	PeakRSS int64 // bytes
}

func (p *controllerProcess) usage() (usage, error) {
	pid := p.group.Pid()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	ticks, err := parseStatCPU(string(stat))
	if err != nil {
		return usage{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	hwm, err := parseVmHWM(string(status))
	if err != nil {
		return usage{}, err
	}
	return usage{CPU: time.Duration(ticks) * time.Second / clockTicks, PeakRSS: hwm}, nil
}

// parseStatCPU returns utime+stime+cutime+cstime (fields 14-17 of
// proc_pid_stat(5)), in clock ticks. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseStatCPU(stat string) (int64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc stat without a command name: %q", stat)
	}
	fields := strings.Fields(stat[end+1:]) // fields[0] is field 3 (state)
	if len(fields) < 15 {
		return 0, fmt.Errorf("/proc stat with %d fields after the command name, want at least 15", len(fields))
	}
	var sum int64
	for _, f := range fields[11:15] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat CPU field %q: %w", f, err)
		}
		sum += v
	}
	return sum, nil
}

// parseVmHWM returns the VmHWM line of /proc/<pid>/status, in bytes.
func parseVmHWM(status string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmHWM line %q, want a number of kB", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM line %q: %w", line, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmHWM line in /proc status")
}

// scrape reads the controller's metrics (nil, nil when it serves none).
func (p *controllerProcess) scrape(ctx context.Context) (metricValues, error) {
	if p.metricsURL == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", p.metricsURL, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// cpuProfile writes the controller's CPU profile over the next d to path.
func (p *controllerProcess) cpuProfile(ctx context.Context, d time.Duration, path string) error {
	seconds := max(1, int(d.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s?seconds=%d", p.pprofURL, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", p.pprofURL, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// metricValues maps a sample's name with its labels, as printed in the
// Prometheus text format (`frrgen_writes_total{kind="FRRConfiguration",verb="update"}`),
// to its value.
type metricValues map[string]float64

func parseMetrics(r io.Reader) (metricValues, error) {
	m := metricValues{}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, s.Err()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
