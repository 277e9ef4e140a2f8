package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	frrBinDir     = "/usr/lib/frr"
	frrReloadPy   = "/usr/lib/frr/frr-reload.py"
	frrRunDirRoot = "/var/run/frr"
	// (frr-k8s parses FRR_RELOADER_PID_FILE with Atoi: no trailing newline.)
	// frr-k8s always renders `log file /etc/frr/frr.log`; the suite removes
	// the file afterwards if it did not exist before.
	frrK8sLogFile = "/etc/frr/frr.log"
)

func frrDir(pathspace string) string    { return filepath.Join(workDir, pathspace) }
func frrRunDir(pathspace string) string { return filepath.Join(frrRunDirRoot, pathspace) }
func frrConfFile() string               { return filepath.Join(workDir, "frr-k8s", "frr.conf") }
func reloaderDir() string               { return filepath.Join(workDir, "reloader") }

func chownFRR(path string) error {
	u, err := user.Lookup("frr")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// startFRR runs FRR daemons in the foreground (so the suite owns their pids)
// inside network namespace ns, under pathspace ns: their vty sockets are in
// /var/run/frr/<ns>/, reachable by `vtysh -N <ns>` from the root namespace.
// The node runs zebra, bgpd and bfdd and is configured by the reloader; the
// peer namespace runs zebra and bfdd with a static config, as the BFD end of
// the GoBGP peer (GoBGP has no BFD).
func startFRR(ns string, daemons []string, config string) error {
	for _, dir := range []string{frrRunDir(ns), frrDir(ns)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := chownFRR(dir); err != nil {
			return err
		}
	}
	conf := filepath.Join(frrDir(ns), "frr.conf")
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		return err
	}
	for _, d := range daemons {
		_, err := startProc(ns+"-"+d, nil,
			"ip", "netns", "exec", ns, filepath.Join(frrBinDir, d),
			"-N", ns, "-f", conf, "-i", filepath.Join(frrDir(ns), d+".pid"),
			"-P", "0", "--log", "stdout")
		if err != nil {
			return err
		}
		if err := waitFor(10*time.Second, func() error {
			_, err := os.Stat(filepath.Join(frrRunDir(ns), d+".vty"))
			return err
		}); err != nil {
			return fmt.Errorf("%s in %s did not open its vty socket: %w", d, ns, err)
		}
	}
	return nil
}

// vtysh runs one command against the node's FRR daemons.
func vtysh(command string) (string, error) {
	return vtyshIn(nodeName, command)
}

func vtyshIn(pathspace, command string) (string, error) {
	cmd := exec.Command("vtysh", "-N", pathspace, "-c", command)
	out, err := cmd.Output() // stderr only warns about the missing per-pathspace vtysh.conf
	if err != nil {
		return string(out), fmt.Errorf("vtysh -c %q: %w", command, err)
	}
	return string(out), nil
}

// nodeRIB returns the prefixes of bgpd's IPv4 unicast table with their next
// hops (`show bgp ipv4 json`).
func nodeRIB() (map[string][]string, error) {
	out, err := vtysh("show bgp ipv4 json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Routes map[string][]struct {
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"routes"`
	}
	if strings.TrimSpace(out) == "" || strings.TrimSpace(out) == "{}" {
		return map[string][]string{}, nil
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("parsing show bgp ipv4 json: %w: %s", err, out)
	}
	rib := map[string][]string{}
	for prefix, paths := range doc.Routes {
		for _, p := range paths {
			for _, nh := range p.Nexthops {
				rib[prefix] = append(rib[prefix], nh.IP)
			}
		}
	}
	return rib, nil
}

// bfdPeers returns the pathspace's `show bfd peers json` as peer address → status.
func bfdPeers(pathspace string) (map[string]string, error) {
	out, err := vtyshIn(pathspace, "show bfd peers json")
	if err != nil {
		return nil, err
	}
	var peers []struct {
		Peer   string `json:"peer"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &peers); err != nil {
		return nil, fmt.Errorf("parsing show bfd peers json: %w: %s", err, out)
	}
	m := map[string]string{}
	for _, p := range peers {
		m[p.Peer] = p.Status
	}
	return m, nil
}

// renderedConfig is the last frr.conf the frr-k8s daemon wrote.
func renderedConfig() (string, error) {
	b, err := os.ReadFile(frrConfFile())
	return string(b), err
}

// reloaderStatus is the reloader's last result: "success" or "failure".
func reloaderStatus() string { return reloaderStatusIn(reloaderDir()) }

// reloaderStatusIn reads the status a reloader keeps in stateDir.
func reloaderStatusIn(stateDir string) string {
	b, err := os.ReadFile(filepath.Join(stateDir, "status"))
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

func waitFor(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
