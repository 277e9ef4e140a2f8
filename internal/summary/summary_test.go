package summary

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTableShowsRoutesWithAttributes(t *testing.T) {
	port := uint16(180)
	configs := []frrv1beta1.FRRConfiguration{{
		ObjectMeta: metav1.ObjectMeta{Name: "frrgen-hostA", Annotations: map[string]string{nodeAnnotation: "hostA"}},
		Spec: frrv1beta1.FRRConfigurationSpec{BGP: frrv1beta1.BGPConfig{
			Routers: []frrv1beta1.Router{{
				ASN: 64512, ID: "10.0.0.1",
				Neighbors: []frrv1beta1.Neighbor{{
					Address: "172.30.0.3", ASN: 64512, Port: &port, BFDProfile: "fast",
					ToAdvertise: frrv1beta1.Advertise{
						Allowed:               frrv1beta1.AllowedOutPrefixes{Prefixes: []string{"198.51.100.0/24", "198.51.100.10/32"}},
						PrefixesWithLocalPref: []frrv1beta1.LocalPrefPrefixes{{LocalPref: 100, Prefixes: []string{"198.51.100.10/32"}}},
						PrefixesWithCommunity: []frrv1beta1.CommunityPrefixes{
							{Community: "65535:65282", Prefixes: []string{"198.51.100.10/32"}},
							{Community: "large:1:2:3", Prefixes: []string{"198.51.100.10/32"}},
						},
					},
				}},
			}},
			BFDProfiles: []frrv1beta1.BFDProfile{{Name: "fast"}},
		}},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "frrgen-hostB"},
		Spec: frrv1beta1.FRRConfigurationSpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/hostname": "hostB"}},
			BGP: frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{
				ASN: 64512, VRF: "red",
				Neighbors: []frrv1beta1.Neighbor{{Interface: "eth1", DynamicASN: "external"}},
			}}},
		},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "empty"},
	}}

	var out bytes.Buffer
	if err := Table(&out, configs); err != nil {
		t.Fatal(err)
	}
	want := `node hostA
  router AS64512 (default VRF, router-id 10.0.0.1)
    neighbor 172.30.0.3 AS64512 port 180 bfd fast
      198.51.100.0/24   -              -
      198.51.100.10/32  localPref 100  communities 65535:65282,large:1:2:3
  bfd profile fast
node hostB
  router AS64512 (VRF red)
    neighbor interface eth1 AS external
      (advertises nothing)
node (all nodes)
  (no BGP router)
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
}
