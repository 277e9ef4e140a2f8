package controllers_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/frrgen/frrgen/internal/manager"
	"github.com/frrgen/frrgen/internal/version"
)

// `frrgen controller` as it runs in the cluster (internal/manager.Run),
// with its metrics and probe endpoints on loopback ports.
var _ = Describe("Operations", func() {
	ctx := context.Background()

	It("serves metrics over HTTPS only to a token allowed to get /metrics, and exports every metric the alert rules name", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.apply(samples("metallb.io_v1beta2_bgppeer_peer.yaml"))
		metrics, _ := runFrrgen(manager.Settings{Translation: w.options, MetricsSecure: true})
		Eventually(w.config).WithArguments("a").ShouldNot(BeNil())

		url := "https://" + metrics + "/metrics"
		Eventually(scrape).WithArguments(url, "").Should(HaveField("Status", http.StatusUnauthorized))

		// Two ServiceAccounts: the filter caches a denial for 30 s, so the
		// one that is refused is not the one that gets the role.
		stranger := &corev1.ServiceAccount{ObjectMeta: metavIn(w.in, "stranger")}
		Expect(k8s.Create(ctx, stranger)).To(Succeed())
		Expect(scrape(url, tokenFor(stranger))).To(HaveField("Status", http.StatusForbidden), "a valid token without the metrics-reader role")
		scraper := &corev1.ServiceAccount{ObjectMeta: metavIn(w.in, "scraper")}
		Expect(k8s.Create(ctx, scraper)).To(Succeed())
		token := tokenFor(scraper)

		// The shipped metrics-reader role, under a name of this spec's.
		var reader rbacv1.ClusterRole
		data, err := os.ReadFile(filepath.Join(env.RepoRoot, "config", "rbac", "metrics_reader_role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.UnmarshalStrict(data, &reader)).To(Succeed())
		reader.Name += "-" + w.id
		Expect(k8s.Create(ctx, &reader)).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, &reader)).To(Succeed()) })
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metavOf(reader.Name),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: w.in, Name: scraper.Name}},
		}
		Expect(k8s.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, binding)).To(Succeed()) })

		var families map[string]*dto.MetricFamily
		Eventually(func(g Gomega) {
			r := scrape(url, token)
			g.Expect(r.Status).To(Equal(http.StatusOK), r.Body)
			families = parseMetrics(g, r.Body)
		}).Should(Succeed())

		info := version.Get()
		Expect(families).To(HaveKey("frrgen_build_info"))
		Expect(labelsOf(families["frrgen_build_info"].GetMetric()[0])).To(Equal(map[string]string{
			"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion,
		}))

		alerts := alertRules()
		Expect(alerts).To(HaveLen(4))
		for alert, expr := range alerts {
			for _, name := range metricNames(expr) {
				Expect(families).To(HaveKey(name), "alert %s uses %s, which frrgen does not export", alert, name)
			}
		}
	})

	It("serves plain HTTP with --metrics-secure=false; /readyz fails while every write fails and recovers when they succeed", func() {
		w := newWorld()
		// Writes go to a namespace that does not exist yet: every create of
		// an FRRConfiguration fails.
		w.out = w.id + "-later"
		w.options.FRRK8sNamespace = w.out
		metrics, probes := runFrrgen(manager.Settings{Translation: w.options})
		url := "http://" + metrics + "/metrics"
		readyz := "http://" + probes + "/readyz"
		Eventually(get).WithArguments(readyz).Should(HaveField("Status", http.StatusOK))
		failedCreates := func() float64 {
			r := scrape(url, "")
			Expect(r.Status).To(Equal(http.StatusOK), "plain HTTP needs no token")
			return counterValue(parseMetrics(Default, r.Body), "frrgen_write_errors_total", map[string]string{"kind": "FRRConfiguration", "verb": "create"})
		}
		before := failedCreates()

		w.addNode("a", nil)
		w.apply(samples("metallb.io_v1beta2_bgppeer_peer.yaml"))
		Eventually(get).WithArguments(readyz).Should(HaveField("Status", http.StatusInternalServerError))
		Expect(get(readyz + "/reconciles")).To(HaveField("Status", http.StatusInternalServerError))
		Expect(get(readyz + "/informers")).To(HaveField("Status", http.StatusOK))
		Expect(get(readyz + "/apiserver")).To(HaveField("Status", http.StatusOK))
		Expect(failedCreates()).To(BeNumerically(">=", before+3))

		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metavOf(w.out)})).To(Succeed())
		Eventually(w.config).WithArguments("a").ShouldNot(BeNil())
		Eventually(get).WithArguments(readyz).Should(HaveField("Status", http.StatusOK))
	})
})

// runFrrgen runs `frrgen controller` (without leader election) for the rest
// of the spec and returns its metrics and probe addresses.
func runFrrgen(s manager.Settings) (metrics, probes string) {
	s.MetricsAddress, s.ProbeAddress = freeAddress(), freeAddress()
	s.AllowDuplicateControllerNames = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(manager.Run(ctx, env.Config, s)).To(Succeed())
	}()
	DeferCleanup(func() {
		cancel()
		Eventually(done).Should(BeClosed())
	})
	return s.MetricsAddress, s.ProbeAddress
}

// freeAddress is a loopback address with a port that was free a moment ago.
func freeAddress() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}

type response struct {
	Status int
	Body   string
}

// scrape GETs url with the bearer token (none when empty). The metrics
// certificate is self-signed; the server is on loopback.
func scrape(url, token string) response {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	httpClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // self-signed, loopback
	}}
	r, err := httpClient.Do(request)
	if err != nil {
		return response{Body: err.Error()}
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	Expect(err).NotTo(HaveOccurred())
	return response{Status: r.StatusCode, Body: string(body)}
}

func get(url string) response { return scrape(url, "") }

// tokenFor asks the TokenRequest API for a token of the ServiceAccount.
func tokenFor(sa *corev1.ServiceAccount) string {
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}
	Expect(k8s.SubResource("token").Create(context.Background(), sa, request)).To(Succeed())
	Expect(request.Status.Token).NotTo(BeEmpty())
	return request.Status.Token
}

func parseMetrics(g Gomega, body string) map[string]*dto.MetricFamily {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	g.Expect(err).NotTo(HaveOccurred())
	return families
}

func labelsOf(m *dto.Metric) map[string]string {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	return labels
}

// counterValue is the value of the counter's series with exactly labels.
func counterValue(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	Expect(families).To(HaveKey(name))
	for _, m := range families[name].GetMetric() {
		if fmt.Sprint(labelsOf(m)) == fmt.Sprint(labels) {
			return m.GetCounter().GetValue()
		}
	}
	Fail(fmt.Sprintf("%s has no series %v", name, labels))
	return 0
}

// alertRules maps each alert of config/prometheus's PrometheusRule (built
// offline: the Prometheus Operator's CRDs are not installed here) to its
// expression, checking that every alert says how bad it is and what it means.
func alertRules() map[string]string {
	alerts := map[string]string{}
	for _, u := range buildOverlay("prometheus") {
		if u.GetKind() != "PrometheusRule" {
			continue
		}
		var rule struct {
			Spec struct {
				Groups []struct {
					Rules []struct {
						Alert       string            `json:"alert"`
						Expr        string            `json:"expr"`
						Labels      map[string]string `json:"labels"`
						Annotations map[string]string `json:"annotations"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"spec"`
		}
		data, err := u.MarshalJSON()
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.Unmarshal(data, &rule)).To(Succeed())
		for _, group := range rule.Spec.Groups {
			for _, r := range group.Rules {
				Expect(r.Alert).NotTo(BeEmpty(), "only alerting rules: %s", r.Expr)
				Expect(r.Labels).To(HaveKey("severity"), r.Alert)
				Expect(r.Annotations).To(HaveKey("summary"), r.Alert)
				alerts[r.Alert] = r.Expr
			}
		}
	}
	return alerts
}

// metricNames parses expr with Prometheus's own PromQL parser and returns
// the metric names its selectors read.
func metricNames(expr string) []string {
	parsed, err := parser.ParseExpr(expr)
	Expect(err).NotTo(HaveOccurred(), expr)
	var names []string
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		if selector, ok := node.(*parser.VectorSelector); ok {
			Expect(selector.Name).NotTo(BeEmpty(), "a selector without a metric name in %s", expr)
			names = append(names, selector.Name)
		}
		return nil
	})
	Expect(names).NotTo(BeEmpty(), expr)
	return names
}
