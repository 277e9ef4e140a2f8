package merge

import (
	"fmt"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkForNode merges our config (n /32 prefixes advertised to two
// neighbors, every tenth with a community, every hundredth with a
// localPref) with a user config receiving from the same neighbors.
func BenchmarkForNode(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			configs := benchConfigs(n)
			b.ResetTimer()
			for range b.N {
				if _, _, c := ForNode(configs, node1, nil); c != nil {
					b.Fatal(c.Message)
				}
			}
		})
	}
}

func benchConfigs(n int) []frrv1beta1.FRRConfiguration {
	prefixes := make([]string, n)
	for i := range prefixes {
		prefixes[i] = fmt.Sprintf("10.%d.%d.%d/32", i>>16&255, i>>8&255, i&255)
	}
	advertise := frrv1beta1.Advertise{
		Allowed:               frrv1beta1.AllowedOutPrefixes{Prefixes: prefixes},
		PrefixesWithCommunity: []frrv1beta1.CommunityPrefixes{{Community: "65000:1"}},
		PrefixesWithLocalPref: []frrv1beta1.LocalPrefPrefixes{{LocalPref: 200}},
	}
	for i, p := range prefixes {
		if i%10 == 0 {
			advertise.PrefixesWithCommunity[0].Prefixes = append(advertise.PrefixesWithCommunity[0].Prefixes, p)
		}
		if i%100 == 0 {
			advertise.PrefixesWithLocalPref[0].Prefixes = append(advertise.PrefixesWithLocalPref[0].Prefixes, p)
		}
	}
	ours := frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "frrgen-node1"}}
	user := frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "user"}}
	ourRouter := frrv1beta1.Router{ASN: 64512, Prefixes: prefixes}
	userRouter := frrv1beta1.Router{ASN: 64512}
	for _, address := range []string{"172.30.0.3", "172.30.0.4"} {
		ourRouter.Neighbors = append(ourRouter.Neighbors, frrv1beta1.Neighbor{Address: address, ASN: 64513, ToAdvertise: advertise})
		userRouter.Neighbors = append(userRouter.Neighbors, frrv1beta1.Neighbor{Address: address, ASN: 64513,
			ToReceive: frrv1beta1.Receive{Allowed: frrv1beta1.AllowedInPrefixes{Mode: frrv1beta1.AllowAll}}})
	}
	ours.Spec.BGP.Routers = []frrv1beta1.Router{ourRouter}
	user.Spec.BGP.Routers = []frrv1beta1.Router{userRouter}
	return []frrv1beta1.FRRConfiguration{ours, user}
}
