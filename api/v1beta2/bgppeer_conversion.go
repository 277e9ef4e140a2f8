package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
)

// FromV1beta1 returns a metallb.io/v1beta1 BGPPeer as MetalLB v0.15's
// conversion gives it in v1beta2: the same fields, and holdTime and
// keepaliveTime always set (0s when the v1beta1 object leaves them unset),
// which the v1beta1 CRD's defaults reproduce at the apiserver. Status is not
// carried over (v1beta1 has none).
func FromV1beta1(in *metallbv1beta1.BGPPeer) BGPPeer {
	hold, keepalive := in.Spec.HoldTime, in.Spec.KeepaliveTime
	return BGPPeer{
		TypeMeta:   metav1.TypeMeta{APIVersion: GroupVersion.String(), Kind: "BGPPeer"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: BGPPeerSpec{
			MyASN:         in.Spec.MyASN,
			ASN:           in.Spec.ASN,
			Address:       in.Spec.Address,
			SrcAddress:    in.Spec.SrcAddress,
			Port:          in.Spec.Port,
			HoldTime:      &hold,
			KeepaliveTime: &keepalive,
			RouterID:      in.Spec.RouterID,
			NodeSelectors: deepCopySelectors(in.Spec.NodeSelectors),
			Password:      in.Spec.Password,
			BFDProfile:    in.Spec.BFDProfile,
			EBGPMultiHop:  in.Spec.EBGPMultiHop,
		},
	}
}

func deepCopySelectors(in []metallbv1beta1.LabelSelector) []metallbv1beta1.LabelSelector {
	if in == nil {
		return nil
	}
	out := make([]metallbv1beta1.LabelSelector, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}
