package deploy_test

import (
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/directory/devdirectory"
)

// The NATS client certificate of each service: Secret gp2gp-<svc>-nats,
// mounted here.
const natsTLSDir = "/etc/gp2gp/nats"

// The user of distroless's nonroot image.
const nonroot = 65532

func TestDeployments(t *testing.T) {
	eachRender(t, func(t *testing.T, r *rendered) {
		for _, svc := range services {
			t.Run(svc, func(t *testing.T) {
				d := r.deployments[svc]
				pod := d.Spec.Template.Spec
				c := r.container(t, svc)
				env := r.env(t, svc)

				// Labels and selector.
				want := map[string]string{"app.kubernetes.io/name": svc}
				assert.Equal(t, want, d.Spec.Selector.MatchLabels)
				assert.Equal(t, svc, d.Labels["app.kubernetes.io/name"])
				assert.Equal(t, svc, d.Spec.Template.Labels["app.kubernetes.io/name"])
				assert.Equal(t, "gp2gp", d.Spec.Template.Labels["app.kubernetes.io/part-of"])

				// Image: gp2gp/<svc>, which the Dockerfile builds from
				// services/<svc>/cmd/<svc>; the overlays pin a tag.
				assert.Equal(t, svc, c.Name)
				name, tag := trimTag(c.Image)
				assert.Equal(t, "gp2gp/"+svc, name)
				if r.dir != baseDir {
					assert.NotEmpty(t, tag, "the overlay sets the image tag")
					assert.NotEqual(t, "latest", tag)
				}
				assert.DirExists(t, "../services/"+svc+"/cmd/"+svc)

				// The ops endpoint and its probes.
				assert.Equal(t, ":8080", env["GP2GP_OPS_ADDR"].Value)
				assert.Equal(t, int32(8080), port(t, c, "ops"))
				assertProbe(t, c.LivenessProbe, "liveness", "/healthz")
				assertProbe(t, c.ReadinessProbe, "readiness", "/readyz")
				if c.StartupProbe != nil {
					assertProbe(t, c.StartupProbe, "startup", "/healthz")
				}

				// Requests and limits, requests within limits.
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					req, hasReq := c.Resources.Requests[res]
					lim, hasLim := c.Resources.Limits[res]
					if assert.True(t, hasReq, "%s request", res) && assert.True(t, hasLim, "%s limit", res) {
						assert.True(t, req.Sign() > 0 && req.Cmp(lim) <= 0, "%s: request %s, limit %s", res, req.String(), lim.String())
					}
				}

				// Unprivileged: pod and container.
				psc := pod.SecurityContext
				require.NotNil(t, psc, "pod securityContext")
				assert.Equal(t, ptr(true), psc.RunAsNonRoot)
				assert.Equal(t, ptr(int64(nonroot)), psc.RunAsUser)
				assert.Equal(t, ptr(int64(nonroot)), psc.RunAsGroup)
				require.NotNil(t, psc.SeccompProfile)
				assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
				csc := c.SecurityContext
				require.NotNil(t, csc, "container securityContext")
				assert.Equal(t, ptr(true), csc.RunAsNonRoot)
				assert.Equal(t, ptr(int64(nonroot)), csc.RunAsUser)
				assert.Equal(t, ptr(int64(nonroot)), csc.RunAsGroup)
				assert.Equal(t, ptr(true), csc.ReadOnlyRootFilesystem)
				assert.Equal(t, ptr(false), csc.AllowPrivilegeEscalation)
				assert.NotEqual(t, ptr(true), csc.Privileged)
				require.NotNil(t, csc.Capabilities)
				assert.Equal(t, []corev1.Capability{"ALL"}, csc.Capabilities.Drop)
				assert.Empty(t, csc.Capabilities.Add)
				require.NotNil(t, csc.SeccompProfile)
				assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, csc.SeccompProfile.Type)
				assert.False(t, pod.HostNetwork || pod.HostPID || pod.HostIPC)

				// Its own ServiceAccount, no API token.
				assert.Equal(t, svc, pod.ServiceAccountName)
				sa := r.serviceAccounts[svc]
				require.NotNil(t, sa)
				assert.Equal(t, ptr(false), sa.AutomountServiceAccountToken)
				assert.Equal(t, ptr(false), pod.AutomountServiceAccountToken)

				// Configuration from the shared ConfigMap.
				var fromShared bool
				for _, ef := range c.EnvFrom {
					fromShared = fromShared || r.generatedFrom[ef.ConfigMapRef.Name] == "gp2gp-config"
				}
				assert.True(t, fromShared, "envFrom ConfigMap gp2gp-config")

				// NATS over TLS with the service's client certificate, from
				// its Secret.
				assert.True(t, strings.HasPrefix(env["GP2GP_NATS_URL"].Value, "tls://"), "GP2GP_NATS_URL %q", env["GP2GP_NATS_URL"].Value)
				assert.Equal(t, natsTLSDir+"/ca.crt", env["GP2GP_NATS_TLS_CA"].Value)
				assert.Equal(t, natsTLSDir+"/tls.crt", env["GP2GP_NATS_TLS_CERT"].Value)
				assert.Equal(t, natsTLSDir+"/tls.key", env["GP2GP_NATS_TLS_KEY"].Value)
				vol := mountedVolume(t, pod, c, natsTLSDir)
				if assert.NotNil(t, vol.Secret, "%s is a Secret volume", natsTLSDir) {
					assert.Equal(t, "gp2gp-"+svc+"-nats", vol.Secret.SecretName)
				}

				// A writable /tmp on a read-only root.
				assert.NotNil(t, mountedVolume(t, pod, c, "/tmp").EmptyDir, "/tmp is an emptyDir")

				// Every volume mounted exists, every ConfigMap it names is in
				// the kustomization.
				for _, m := range c.VolumeMounts {
					v := mountedVolume(t, pod, c, m.MountPath)
					if v.ConfigMap != nil {
						assert.Contains(t, r.configMaps, v.ConfigMap.Name, "volume %s", v.Name)
					}
				}

				// Time to drain after SIGTERM.
				shutdown := 30 * time.Second
				if v, ok := env["GP2GP_SHUTDOWN_TIMEOUT"]; ok {
					var err error
					shutdown, err = time.ParseDuration(v.Value)
					require.NoError(t, err)
				}
				require.NotNil(t, pod.TerminationGracePeriodSeconds)
				assert.Greater(t, time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second, shutdown,
					"terminationGracePeriodSeconds beyond GP2GP_SHUTDOWN_TIMEOUT")

				if svc == "mireporter" {
					// One instance at a time: its figures live in memory.
					assert.Equal(t, ptr(int32(1)), d.Spec.Replicas)
					assert.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type)
					assert.Equal(t, ":8090", env["GP2GP_MI_HTTP_ADDR"].Value)
					assert.Equal(t, int32(8090), port(t, c, "dashboard"))
				}
			})
		}
	})
}

// assertProbe checks that p is an HTTP GET of path on the ops port.
func assertProbe(t *testing.T, p *corev1.Probe, kind, path string) {
	t.Helper()
	if !assert.NotNil(t, p, "%s probe", kind) || !assert.NotNil(t, p.HTTPGet, "%s probe is an HTTP GET", kind) {
		return
	}
	assert.Equal(t, path, p.HTTPGet.Path, "%s probe", kind)
	assert.Equal(t, intstr.FromString("ops"), p.HTTPGet.Port, "%s probe", kind)
}

// port returns the number of the container's port called name.
func port(t *testing.T, c *corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Errorf("container %s has no port %s", c.Name, name)
	return 0
}

// mountedVolume returns the volume the container mounts at path.
func mountedVolume(t *testing.T, pod corev1.PodSpec, c *corev1.Container, path string) *corev1.Volume {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		if path == natsTLSDir {
			assert.True(t, m.ReadOnly, "%s mounted read-only", path)
		}
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == m.Name {
				return &pod.Volumes[i]
			}
		}
		t.Fatalf("volume %s (mounted at %s) is not defined", m.Name, path)
	}
	t.Fatalf("nothing is mounted at %s", path)
	return nil
}

func ptr[T any](v T) *T { return &v }

// The Secrets the manifests may reference; deploy/k8s/README.md says how
// to create each.
func allowedSecrets() map[string]bool {
	ok := map[string]bool{"gp2gp-directory": true, "gp2gp-mi-api": true}
	for _, svc := range services {
		ok["gp2gp-"+svc+"-nats"] = true
	}
	return ok
}

// Names of settings that are credentials: a literal value for one in a
// ConfigMap or a Deployment is refused.
var secretName = regexp.MustCompile(`(?i)(API_?KEY|PASSWORD|PASSWD|SECRET|TOKEN)`)

// Values that look like credentials wherever they are.
var secretValue = []*regexp.Regexp{
	regexp.MustCompile(`-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----`),
	regexp.MustCompile(`(?i)apikey[=:]`),
	regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`), // a URL with a password
}

func TestNoCredentialsInManifests(t *testing.T) {
	readme, err := os.ReadFile("k8s/README.md")
	require.NoError(t, err)
	eachRender(t, func(t *testing.T, r *rendered) {
		for name, cm := range r.configMaps {
			for k, v := range cm.Data {
				assert.False(t, secretName.MatchString(k), "ConfigMap %s: %s looks like a credential: it belongs in a Secret", name, k)
				for _, re := range secretValue {
					assert.False(t, re.MatchString(v), "ConfigMap %s: %s looks like it holds a credential", name, k)
				}
			}
			assert.Empty(t, cm.BinaryData, "ConfigMap %s", name)
		}
		for _, svc := range services {
			pod := r.deployments[svc].Spec.Template.Spec
			for _, e := range r.container(t, svc).Env {
				if e.ValueFrom == nil {
					assert.False(t, secretName.MatchString(e.Name), "%s: %s has a literal value: take it from a Secret", svc, e.Name)
					for _, re := range secretValue {
						assert.False(t, re.MatchString(e.Value), "%s: %s looks like it holds a credential", svc, e.Name)
					}
					continue
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					assert.True(t, allowedSecrets()[ref.Name], "%s: %s from Secret %s, which README.md does not document", svc, e.Name, ref.Name)
					assert.Equal(t, "api-key", ref.Key, "%s: %s", svc, e.Name)
					assert.NotEqual(t, ptr(true), ref.Optional, "%s: %s: a missing Secret must stop the pod, not start it without a key", svc, e.Name)
				}
			}
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					assert.True(t, allowedSecrets()[v.Secret.SecretName], "%s: volume of Secret %s, which README.md does not document", svc, v.Secret.SecretName)
				}
			}
		}
	})
	for name := range allowedSecrets() {
		assert.Contains(t, string(readme), name, "k8s/README.md says how to create Secret %s", name)
	}
}

func TestPodDisruptionBudgets(t *testing.T) {
	eachRender(t, func(t *testing.T, r *rendered) {
		for _, svc := range services {
			pdb := r.pdbs[svc]
			require.NotNil(t, pdb, svc)
			assert.True(t, selects(t, pdb.Spec.Selector, r.podLabels(t, svc)), "%s: the budget selects the service's pods", svc)
			for other := range r.deployments {
				if other != svc {
					assert.False(t, selects(t, pdb.Spec.Selector, r.podLabels(t, other)), "%s's budget selects %s's pods", svc, other)
				}
			}
			replicas := *r.deployments[svc].Spec.Replicas
			switch {
			case svc == "mireporter":
				assert.Equal(t, ptr(intstr.FromInt32(1)), pdb.Spec.MaxUnavailable, "%s: maxUnavailable 1", svc)
			case replicas > 1:
				assert.Equal(t, ptr(intstr.FromInt32(1)), pdb.Spec.MinAvailable, "%s: minAvailable 1", svc)
			}
			// A budget no eviction can meet blocks every node drain.
			if pdb.Spec.MinAvailable != nil {
				assert.Less(t, pdb.Spec.MinAvailable.IntValue(), int(replicas), "%s: minAvailable below the replicas, or drains block", svc)
			} else {
				require.NotNil(t, pdb.Spec.MaxUnavailable, svc)
				assert.Positive(t, pdb.Spec.MaxUnavailable.IntValue(), svc)
			}
		}
	})
}

func TestServices(t *testing.T) {
	eachRender(t, func(t *testing.T, r *rendered) {
		// Each Service reaches the named port of exactly one service's pods.
		for name, s := range r.services {
			var target []string
			for _, svc := range services {
				if len(s.Spec.Selector) > 0 && selects(t, metav1Selector(s.Spec.Selector), r.podLabels(t, svc)) {
					target = append(target, svc)
				}
			}
			require.Len(t, target, 1, "Service %s selects the pods of one service", name)
			c := r.container(t, target[0])
			for _, p := range s.Spec.Ports {
				require.Equal(t, intstr.String, p.TargetPort.Type, "Service %s: a named targetPort", name)
				assert.Equal(t, p.Port, port(t, c, p.TargetPort.StrVal), "Service %s: port %s", name, p.Name)
			}
		}
		// Prometheus: a headless Service per service on its ops port.
		for _, svc := range services {
			s := r.services[svc+"-ops"]
			require.NotNil(t, s, "Service %s-ops", svc)
			assert.Equal(t, corev1.ClusterIPNone, s.Spec.ClusterIP)
			require.Len(t, s.Spec.Ports, 1)
			assert.Equal(t, "ops", s.Spec.Ports[0].Name)
		}
		// The MI dashboard and API.
		s := r.services["gp2gp-mi-dashboard"]
		require.NotNil(t, s, "Service gp2gp-mi-dashboard")
		assert.Equal(t, corev1.ServiceTypeClusterIP, s.Spec.Type)
		assert.Equal(t, "mireporter", s.Spec.Selector["app.kubernetes.io/name"])
		require.Len(t, s.Spec.Ports, 1)
		assert.Equal(t, intstr.FromString("dashboard"), s.Spec.Ports[0].TargetPort)
		// The MHS inbound endpoints: a Service per stage, only where Spine
		// goes through the MHS adaptor.
		for _, svc := range stages {
			s, ok := r.services[svc+"-mhs-inbound"]
			if r.dir != prodDir {
				assert.False(t, ok, "Service %s-mhs-inbound without the MHS adaptor", svc)
				continue
			}
			require.True(t, ok, "Service %s-mhs-inbound", svc)
			require.Len(t, s.Spec.Ports, 1)
			assert.Equal(t, intstr.FromString("mhs-inbound"), s.Spec.Ports[0].TargetPort)
			assert.Equal(t, ":8081", r.env(t, svc)["GP2GP_MHS_INBOUND_ADDR"].Value)
			assert.Equal(t, int32(8081), port(t, r.container(t, svc), "mhs-inbound"))
		}
	})
}

func TestProd(t *testing.T) {
	r := render(t, prodDir)
	base := render(t, baseDir)
	for _, svc := range services {
		env := r.env(t, svc)
		d := r.deployments[svc]
		assert.Equal(t, "prod", env["GP2GP_PROFILE"].Value, svc)
		// Resources at least the base's; the large-record stages' memory
		// at least 1 GiB.
		c, bc := r.container(t, svc), base.container(t, svc)
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			assert.GreaterOrEqual(t, c.Resources.Requests.Name(res, "").Cmp(*bc.Resources.Requests.Name(res, "")), 0, "%s: %s request", svc, res)
			assert.GreaterOrEqual(t, c.Resources.Limits.Name(res, "").Cmp(*bc.Resources.Limits.Name(res, "")), 0, "%s: %s limit", svc, res)
		}
		if svc == "mireporter" {
			assert.Equal(t, ptr(int32(1)), d.Spec.Replicas)
			assert.Equal(t, "https://api.service.nhs.uk/gp-registrations-mi", env["GP2GP_MI_API_URL"].Value)
			assertSecretKey(t, env, "GP2GP_MI_API_KEY", "gp2gp-mi-api")
			continue
		}
		if svc == "sender" || svc == "receiver" {
			assert.GreaterOrEqual(t, c.Resources.Limits.Memory().Value(), int64(1<<30), "%s: memory limit", svc)
		}
		require.NotNil(t, d.Spec.Replicas)
		assert.GreaterOrEqual(t, *d.Spec.Replicas, int32(2), "%s: replicas", svc)
		assert.Equal(t, "mhs", env["GP2GP_SPINE_TRANSPORT"].Value, svc)
		assert.NotEmpty(t, env["GP2GP_MHS_OUTBOUND_URL"].Value, svc)
		assert.Equal(t, "https://api.service.nhs.uk/personal-demographics/FHIR/R4", env["GP2GP_PDS_URL"].Value, svc)
		assert.Equal(t, "https://api.service.nhs.uk/spine-directory/FHIR/R4", env["GP2GP_SDS_URL"].Value, svc)
		assert.NotContains(t, env, "GP2GP_DIRECTORY_FILE", svc)
		assertSecretKey(t, env, "GP2GP_DIRECTORY_API_KEY", "gp2gp-directory")
		// Spread across zones.
		var zones bool
		for _, tsc := range d.Spec.Template.Spec.TopologySpreadConstraints {
			if tsc.TopologyKey == "topology.kubernetes.io/zone" {
				zones = true
				assert.True(t, selects(t, tsc.LabelSelector, r.podLabels(t, svc)), "%s: the zone spread counts its own pods", svc)
			}
		}
		assert.True(t, zones, "%s: spread across zones", svc)
		// Rolling updates never go below the replicas.
		require.NotNil(t, d.Spec.Strategy.RollingUpdate, svc)
		assert.Equal(t, ptr(intstr.FromInt32(0)), d.Spec.Strategy.RollingUpdate.MaxUnavailable, svc)
	}
}

// metav1Selector is a Service's selector as a label selector.
func metav1Selector(sel map[string]string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: sel}
}

func assertSecretKey(t *testing.T, env map[string]envVar, name, secret string) {
	t.Helper()
	v := env[name]
	if assert.NotNil(t, v.Secret, "%s from a Secret", name) {
		assert.Equal(t, secret, v.Secret.Name, name)
		assert.Equal(t, "api-key", v.Secret.Key, name)
	}
}

func TestDev(t *testing.T) {
	r := render(t, devDir)
	dirJSON := r.configMap(t, "gp2gp-dev-directory").Data["directory.json"]
	// The dev stack's directory, which kustomize cannot read from
	// libs/directory: the copy must not drift.
	assert.Equal(t, string(devdirectory.JSON()), dirJSON,
		"k8s/overlays/dev/directory.json differs from libs/directory/devdirectory/devstack.json: copy it")
	dir, err := directory.ParseFile([]byte(dirJSON))
	require.NoError(t, err, "the dev directory")

	for _, svc := range services {
		env := r.env(t, svc)
		assert.Equal(t, "dev", env["GP2GP_PROFILE"].Value, svc)
		assert.Equal(t, ptr(int32(1)), r.deployments[svc].Spec.Replicas, svc)
		if svc == "mireporter" {
			continue
		}
		assert.Equal(t, "loopback", env["GP2GP_SPINE_TRANSPORT"].Value, svc)
		assert.NotContains(t, env, "GP2GP_PDS_URL", svc)
		assert.NotContains(t, env, "GP2GP_SDS_URL", svc)
		// The directory file: mounted from the ConfigMap and listing each
		// practice served, with its ASID, GP2GP enabled.
		file := env["GP2GP_DIRECTORY_FILE"].Value
		pod := r.deployments[svc].Spec.Template.Spec
		vol := mountedVolume(t, pod, r.container(t, svc), path.Dir(file))
		require.NotNil(t, vol.ConfigMap, "%s: %s from a ConfigMap", svc, file)
		assert.Equal(t, "gp2gp-dev-directory", r.generatedFrom[vol.ConfigMap.Name])
		assert.Equal(t, "directory.json", path.Base(file))
		practices := strings.Split(env["GP2GP_PRACTICES"].Value, ",")
		require.NotEmpty(t, practices[0], "%s: GP2GP_PRACTICES", svc)
		for _, p := range practices {
			ods, asid, _ := strings.Cut(p, ":")
			info, err := dir.Practice(t.Context(), ods)
			if assert.NoError(t, err, "%s: practice %s in the dev directory", svc, ods) {
				assert.True(t, info.GP2GPEnabled, "%s: %s GP2GP enabled", svc, ods)
			}
			ep, err := dir.Endpoint(t.Context(), ods, "RCMR_IN010000UK05")
			if assert.NoError(t, err, "%s: %s's EHR Request endpoint", svc, ods) {
				assert.Equal(t, asid, ep.ASID, "%s: %s's ASID", svc, ods)
			}
		}
	}
}

// TestEnvValues checks the values a typo would break and the services
// would only report at startup.
func TestEnvValues(t *testing.T) {
	practice := regexp.MustCompile(`^[A-Z0-9]{3,10}:[0-9]{1,20}$`)
	eachRender(t, func(t *testing.T, r *rendered) {
		for _, svc := range services {
			for name, v := range r.env(t, svc) {
				if v.Secret != nil || v.Value == "" {
					continue
				}
				switch {
				case strings.HasSuffix(name, "_URL") && name != "GP2GP_NATS_URL", strings.HasSuffix(name, "_ENDPOINT"):
					u, err := url.Parse(v.Value)
					if assert.NoError(t, err, "%s: %s", svc, name) {
						assert.Contains(t, []string{"http", "https"}, u.Scheme, "%s: %s", svc, name)
						assert.NotEmpty(t, u.Host, "%s: %s", svc, name)
					}
				case name == "GP2GP_NATS_URL":
					for _, s := range strings.Split(v.Value, ",") {
						u, err := url.Parse(s)
						if assert.NoError(t, err, "%s: %s", svc, name) {
							assert.Equal(t, "tls", u.Scheme, "%s: %s", svc, name)
						}
					}
				case strings.HasSuffix(name, "_ADDR"):
					_, _, err := net.SplitHostPort(v.Value)
					assert.NoError(t, err, "%s: %s", svc, name)
				case name == "GP2GP_PROFILE":
					assert.Contains(t, []string{"dev", "prod"}, v.Value, "%s: %s", svc, name)
				case name == "GP2GP_SPINE_TRANSPORT":
					assert.Contains(t, []string{"loopback", "mhs"}, v.Value, "%s: %s", svc, name)
				case name == "GP2GP_LOG_FORMAT":
					assert.Equal(t, "json", v.Value, "%s: %s", svc, name)
				case name == "GP2GP_LOG_LEVEL":
					assert.Contains(t, []string{"debug", "info", "warn", "error"}, v.Value, "%s: %s", svc, name)
				case name == "GP2GP_SHUTDOWN_TIMEOUT", name == "GP2GP_TIMER_POLL", name == "GP2GP_MHS_TIMEOUT":
					_, err := time.ParseDuration(v.Value)
					assert.NoError(t, err, "%s: %s", svc, name)
				case name == "GP2GP_PRACTICES":
					for _, p := range strings.Split(v.Value, ",") {
						assert.Regexp(t, practice, p, "%s: %s", svc, name)
					}
				}
			}
		}
	})
}
