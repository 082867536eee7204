package deploy_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The deployed services and the namespace they run in.
var (
	services  = []string{"requester", "sender", "receiver", "acknowledger", "mireporter"}
	stages    = services[:4]
	namespace = "gp2gp"
)

// The kustomizations under k8s/.
const (
	baseDir = "k8s/base"
	devDir  = "k8s/overlays/dev"
	prodDir = "k8s/overlays/prod"
)

// rendered is a kustomization as kustomize builds it, each object decoded
// into its Kubernetes API type, by name.
type rendered struct {
	dir             string
	namespaces      map[string]*corev1.Namespace
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	serviceAccounts map[string]*corev1.ServiceAccount
	configMaps      map[string]*corev1.ConfigMap
	pdbs            map[string]*policyv1.PodDisruptionBudget
	netpols         map[string]*networkingv1.NetworkPolicy
	// generatedFrom maps a generated ConfigMap's name (with its hash
	// suffix) to the name its generator gave it.
	generatedFrom map[string]string
}

// render builds the kustomization in dir with the kustomize API (the same
// code as `kubectl kustomize`, with its default load restrictions: no file
// outside the kustomization's root) and decodes every object strictly: an
// unknown kind, apiVersion, field or a duplicate field fails the test.
func render(t *testing.T, dir string) *rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	r := &rendered{
		dir:             dir,
		namespaces:      map[string]*corev1.Namespace{},
		deployments:     map[string]*appsv1.Deployment{},
		services:        map[string]*corev1.Service{},
		serviceAccounts: map[string]*corev1.ServiceAccount{},
		configMaps:      map[string]*corev1.ConfigMap{},
		pdbs:            map[string]*policyv1.PodDisruptionBudget{},
		netpols:         map[string]*networkingv1.NetworkPolicy{},
		generatedFrom:   map[string]string{},
	}
	for _, res := range m.Resources() {
		y, err := res.AsYAML()
		require.NoError(t, err)
		name := res.GetName()
		where := fmt.Sprintf("%s: %s %s", dir, res.GetKind(), name)
		var meta *metav1.ObjectMeta
		switch gvk := res.GetGvk(); gvk.ApiVersion() + " " + gvk.Kind {
		case "v1 Namespace":
			meta = decode(t, where, y, r.namespaces, name)
		case "apps/v1 Deployment":
			meta = decode(t, where, y, r.deployments, name)
		case "v1 Service":
			meta = decode(t, where, y, r.services, name)
		case "v1 ServiceAccount":
			meta = decode(t, where, y, r.serviceAccounts, name)
		case "v1 ConfigMap":
			meta = decode(t, where, y, r.configMaps, name)
			r.generatedFrom[name] = hashSuffix.ReplaceAllString(name, "")
		case "policy/v1 PodDisruptionBudget":
			meta = decode(t, where, y, r.pdbs, name)
		case "networking.k8s.io/v1 NetworkPolicy":
			meta = decode(t, where, y, r.netpols, name)
		default:
			// A Secret among them would be a committed credential; anything
			// else is a kind these tests do not check yet.
			t.Fatalf("%s: kind %s %s is not one the tests know", where, gvk.ApiVersion(), gvk.Kind)
		}
		if res.GetKind() == "Namespace" {
			require.Empty(t, meta.Namespace, where)
		} else {
			require.Equal(t, namespace, meta.Namespace, "%s: namespace", where)
		}
	}
	return r
}

// hashSuffix is the content hash kustomize appends to a generated name
// (ten characters of its alphabet).
var hashSuffix = regexp.MustCompile(`-[245-9bcdfghkmt]{10}$`)

// decode unmarshals y strictly into a new T, files it under name and
// returns its metadata.
func decode[T any, PT interface {
	*T
	GetObjectMeta() metav1.Object
}](t *testing.T, where string, y []byte, into map[string]PT, name string) *metav1.ObjectMeta {
	t.Helper()
	obj := PT(new(T))
	require.NoError(t, yaml.UnmarshalStrict(y, obj), where)
	require.NotContains(t, into, name, "%s: twice", where)
	into[name] = obj
	return obj.GetObjectMeta().(*metav1.ObjectMeta)
}

// configMap returns the ConfigMap the kustomization generated as name.
func (r *rendered) configMap(t *testing.T, name string) *corev1.ConfigMap {
	t.Helper()
	for n, cm := range r.configMaps {
		if r.generatedFrom[n] == name {
			return cm
		}
	}
	t.Fatalf("%s: no ConfigMap %s", r.dir, name)
	return nil
}

// container returns the service's Deployment's one container.
func (r *rendered) container(t *testing.T, svc string) *corev1.Container {
	t.Helper()
	d := r.deployments[svc]
	require.NotNil(t, d, "%s: Deployment %s", r.dir, svc)
	require.Len(t, d.Spec.Template.Spec.Containers, 1, "%s: %s's containers", r.dir, svc)
	return &d.Spec.Template.Spec.Containers[0]
}

// envVar is one variable of a container's environment: a value, or a
// reference to a Secret's key.
type envVar struct {
	Value  string
	Secret *corev1.SecretKeySelector
	// From says where it was set (env, or the ConfigMap of envFrom).
	From string
}

// env resolves the container's environment as the kubelet would: each
// envFrom ConfigMap, then env. A variable set twice fails the test (the
// second silently winning is how configuration goes wrong).
func (r *rendered) env(t *testing.T, svc string) map[string]envVar {
	t.Helper()
	c := r.container(t, svc)
	out := map[string]envVar{}
	set := func(name string, v envVar) {
		if prev, ok := out[name]; ok {
			t.Errorf("%s: %s sets %s twice (%s and %s)", r.dir, svc, name, prev.From, v.From)
		}
		out[name] = v
	}
	for _, ef := range c.EnvFrom {
		require.NotNil(t, ef.ConfigMapRef, "%s: %s: envFrom is only for ConfigMaps (credentials go in env, from a Secret key)", r.dir, svc)
		require.Empty(t, ef.Prefix, "%s: %s: envFrom prefix", r.dir, svc)
		cm := r.configMaps[ef.ConfigMapRef.Name]
		require.NotNil(t, cm, "%s: %s: envFrom ConfigMap %s is not in the kustomization", r.dir, svc, ef.ConfigMapRef.Name)
		for k, v := range cm.Data {
			set(k, envVar{Value: v, From: "ConfigMap " + r.generatedFrom[cm.Name]})
		}
	}
	for _, e := range c.Env {
		v := envVar{Value: e.Value, From: "env"}
		if e.ValueFrom != nil {
			require.NotNil(t, e.ValueFrom.SecretKeyRef, "%s: %s: %s: only Secret keys may be referenced", r.dir, svc, e.Name)
			v.Secret = e.ValueFrom.SecretKeyRef
		}
		set(e.Name, v)
	}
	return out
}

// selects reports whether sel selects the pods with labels lbls.
func selects(t *testing.T, sel *metav1.LabelSelector, lbls map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err)
	return s.Matches(labels.Set(lbls))
}

// podLabels returns the labels of the service's pods.
func (r *rendered) podLabels(t *testing.T, svc string) map[string]string {
	t.Helper()
	d := r.deployments[svc]
	require.NotNil(t, d, "%s: Deployment %s", r.dir, svc)
	return d.Spec.Template.Labels
}

// eachRender runs fn as a subtest for the base and each overlay.
func eachRender(t *testing.T, fn func(t *testing.T, r *rendered)) {
	for _, dir := range []string{baseDir, devDir, prodDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) { fn(t, render(t, dir)) })
	}
}

func TestRenderedObjects(t *testing.T) {
	eachRender(t, func(t *testing.T, r *rendered) {
		require.Equal(t, []string{namespace}, keys(r.namespaces))
		require.ElementsMatch(t, services, keys(r.deployments))
		require.ElementsMatch(t, services, keys(r.serviceAccounts))
		require.ElementsMatch(t, services, keys(r.pdbs))
		require.Contains(t, r.netpols, "default-deny")
		ns := r.namespaces[namespace]
		require.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"], "the namespace enforces the restricted Pod Security Standard")
		for _, cm := range r.configMaps {
			require.NotEqual(t, cm.Name, r.generatedFrom[cm.Name], "%s: ConfigMap %s has no content hash: a change would not roll the pods", r.dir, cm.Name)
		}
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// isStage reports whether svc is one of the four transfer stages.
func isStage(svc string) bool { return slices.Contains(stages, svc) }

// trimTag returns the image without its tag.
func trimTag(image string) (name, tag string) {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i], image[i+1:]
	}
	return image, ""
}

// kustomization reads dir's kustomization.yaml strictly.
func kustomization(t *testing.T, dir string) *types.Kustomization {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	require.NoError(t, err)
	var k types.Kustomization
	require.NoError(t, yaml.UnmarshalStrict(b, &k), "%s/kustomization.yaml", dir)
	return &k
}

// TestManifestFilesUsed checks that every file under k8s/ but the README
// is one a kustomization uses, so none lies around unchecked, and reads
// each kustomization.yaml strictly.
func TestManifestFilesUsed(t *testing.T) {
	used := map[string]bool{}
	for _, dir := range []string{baseDir, devDir, prodDir} {
		used[filepath.Join(dir, "kustomization.yaml")] = true
		k := kustomization(t, dir)
		for _, f := range k.Resources {
			used[filepath.Join(dir, f)] = true
		}
		for _, p := range k.Patches {
			used[filepath.Join(dir, p.Path)] = true
		}
		for _, g := range k.ConfigMapGenerator {
			for _, f := range append(g.EnvSources, g.FileSources...) {
				used[filepath.Join(dir, f)] = true
			}
		}
	}
	err := filepath.WalkDir("k8s", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) == ".md" {
			return err
		}
		assert.True(t, used[p], "%s is in no kustomization", p)
		return nil
	})
	require.NoError(t, err)
}
