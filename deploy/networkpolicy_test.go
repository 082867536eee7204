package deploy_test

import (
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What a service may reach, and be reached from, as "peer port" strings:
// a peer is ns:<namespace> or ns:<namespace>/<label>=<value> (a pod
// selector inside it) or ipBlock; a port is TCP/443.
var (
	egressEveryService = []string{
		"ns:kube-system/k8s-app=kube-dns UDP/53",
		"ns:kube-system/k8s-app=kube-dns TCP/53",
		"ns:nats/app.kubernetes.io/name=nats TCP/4222",
		"ns:observability/app.kubernetes.io/name=opentelemetry-collector TCP/4318",
	}
	egressMHS = []string{
		"ns:mhs/app.kubernetes.io/name=mhs-outbound TCP/80",
		"ns:mhs/app.kubernetes.io/name=mhs-outbound TCP/443",
	}
	// PDS and SDS (the stages), the MI API (the mireporter): HTTPS to the
	// egress range the prod overlay sets.
	egressHTTPS       = []string{"ipBlock TCP/443"}
	ingressPrometheus = []string{"ns:monitoring TCP/8080"}
	ingressMHS        = []string{"ns:mhs/app.kubernetes.io/name=mhs-inbound TCP/8081"}
	ingressDashboard  = []string{"ns:ingress-nginx TCP/8090"}
)

// allowed returns what the service may reach and be reached from in the
// rendering r: the base and dev run the loopback Spine and the directory
// file, so nothing leaves the cluster; prod adds the MHS adaptor and
// external HTTPS.
func allowed(r *rendered, svc string) (ingress, egress []string) {
	ingress = slices.Clone(ingressPrometheus)
	egress = slices.Clone(egressEveryService)
	if svc == "mireporter" {
		ingress = append(ingress, ingressDashboard...)
	}
	if r.dir == prodDir {
		egress = append(egress, egressHTTPS...)
		if isStage(svc) {
			ingress = append(ingress, ingressMHS...)
			egress = append(egress, egressMHS...)
		}
	}
	return ingress, egress
}

func TestNetworkPolicies(t *testing.T) {
	eachRender(t, func(t *testing.T, r *rendered) {
		// Deny everything not allowed, in and out.
		deny := r.netpols["default-deny"]
		require.NotNil(t, deny)
		assert.Empty(t, deny.Spec.PodSelector.MatchLabels, "default-deny selects every pod")
		assert.Empty(t, deny.Spec.PodSelector.MatchExpressions, "default-deny selects every pod")
		assert.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, deny.Spec.PolicyTypes)
		assert.Empty(t, deny.Spec.Ingress)
		assert.Empty(t, deny.Spec.Egress)

		for _, svc := range services {
			t.Run(svc, func(t *testing.T) {
				lbls := r.podLabels(t, svc)
				var ingress, egress []string
				var own bool
				for name, np := range r.netpols {
					if !selects(t, &np.Spec.PodSelector, lbls) {
						continue
					}
					own = own || name == svc
					for _, pt := range np.Spec.PolicyTypes {
						switch pt {
						case networkingv1.PolicyTypeIngress:
							for _, rule := range np.Spec.Ingress {
								ingress = append(ingress, flows(t, name, rule.From, rule.Ports)...)
							}
						case networkingv1.PolicyTypeEgress:
							for _, rule := range np.Spec.Egress {
								egress = append(egress, flows(t, name, rule.To, rule.Ports)...)
							}
						}
					}
				}
				assert.True(t, own, "NetworkPolicy %s", svc)
				wantIn, wantOut := allowed(r, svc)
				assert.ElementsMatch(t, wantIn, dedupe(ingress), "ingress allowed to %s", svc)
				assert.ElementsMatch(t, wantOut, dedupe(egress), "egress allowed from %s", svc)
			})
		}
		// Every port let in is one the pods listen on.
		for name, np := range r.netpols {
			for _, rule := range np.Spec.Ingress {
				for _, p := range rule.Ports {
					for _, svc := range services {
						if selects(t, &np.Spec.PodSelector, r.podLabels(t, svc)) {
							assert.True(t, listens(r.container(t, svc), p.Port.IntValue()), "NetworkPolicy %s lets in port %s, which %s does not listen on", name, p.Port.String(), svc)
						}
					}
				}
			}
		}
	})
}

// flows lists what one rule allows as "peer port" strings. A rule without
// peers or without ports allows everything, written as "*".
func flows(t *testing.T, policy string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) []string {
	t.Helper()
	var ps, qs []string
	for _, p := range peers {
		ps = append(ps, peerString(t, policy, p))
	}
	if len(ps) == 0 {
		ps = []string{"*"}
	}
	for _, p := range ports {
		require.NotNil(t, p.Port, "%s: a port", policy)
		require.Nil(t, p.EndPort, "%s: no port ranges", policy)
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		qs = append(qs, fmt.Sprintf("%s/%s", proto, p.Port.String()))
	}
	if len(qs) == 0 {
		qs = []string{"*"}
	}
	var out []string
	for _, p := range ps {
		for _, q := range qs {
			out = append(out, p+" "+q)
		}
	}
	return out
}

// peerString names a peer: ipBlock (a valid CIDR), or a namespace chosen by
// its name label, optionally narrowed to pods by one label. Anything wider
// (every namespace, a pod selector without a namespace) is written so that
// it matches nothing allowed.
func peerString(t *testing.T, policy string, p networkingv1.NetworkPolicyPeer) string {
	t.Helper()
	if p.IPBlock != nil {
		_, _, err := net.ParseCIDR(p.IPBlock.CIDR)
		require.NoError(t, err, "%s: ipBlock CIDR", policy)
		return "ipBlock"
	}
	ns := "(this namespace)"
	if p.NamespaceSelector != nil {
		ns = selectorString(p.NamespaceSelector)
		if name, ok := p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]; ok && len(p.NamespaceSelector.MatchLabels) == 1 && len(p.NamespaceSelector.MatchExpressions) == 0 {
			ns = name
		}
	}
	if p.PodSelector == nil {
		return "ns:" + ns
	}
	return "ns:" + ns + "/" + selectorString(p.PodSelector)
}

func selectorString(s *metav1.LabelSelector) string {
	if len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		return "*"
	}
	if len(s.MatchLabels) == 1 && len(s.MatchExpressions) == 0 {
		for k, v := range s.MatchLabels {
			return k + "=" + v
		}
	}
	return metav1.FormatLabelSelector(s)
}

func listens(c *corev1.Container, port int) bool {
	for _, p := range c.Ports {
		if int(p.ContainerPort) == port {
			return true
		}
	}
	return false
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
