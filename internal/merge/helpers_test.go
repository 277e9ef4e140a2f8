package merge

import (
	"strings"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const testNamespace = "frr-k8s-system"

var node1 = map[string]string{"kubernetes.io/hostname": "node1", "zone": "a"}

// parseConfigs reads FRRConfigurations written as YAML documents separated
// by "---"; a missing namespace means testNamespace.
func parseConfigs(t testing.TB, docs string) []frrv1beta1.FRRConfiguration {
	t.Helper()
	var out []frrv1beta1.FRRConfiguration
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var c frrv1beta1.FRRConfiguration
		if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
			t.Fatalf("bad test config: %v\n%s", err, doc)
		}
		if c.Namespace == "" {
			c.Namespace = testNamespace
		}
		out = append(out, c)
	}
	return out
}

func parseEffective(t testing.TB, doc string) *Effective {
	t.Helper()
	var e Effective
	if err := yaml.UnmarshalStrict([]byte(doc), &e); err != nil {
		t.Fatalf("bad expected effective config: %v\n%s", err, doc)
	}
	return &e
}

func basicAuthSecret(name, password string) corev1.Secret {
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: name},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"username": []byte("bgp"), "password": []byte(password)},
	}
}
