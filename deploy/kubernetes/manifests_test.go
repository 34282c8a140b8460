package kubernetes

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/ngic/ngic/controller/config"
)

// kustomization is the part of kustomize's Kustomization this base uses.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels"`
	Resources []string `json:"resources"`
}

// object is one decoded manifest and where it came from.
type object struct {
	file string
	obj  any
}

// newObject returns an empty value of the API type of apiVersion and kind.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Service":
		return &corev1.Service{}
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	}
	return nil
}

// strict decodes one YAML document into v as the API server does: field
// names match case for case, and an unknown or repeated field is an error.
func strict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	errs, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// documents splits a YAML stream at its "---" lines.
func documents(b []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// decode decodes every document of data strictly into its API type: an
// unknown or misspelt field, or a value of the wrong type, is an error.
func decode(t *testing.T, name string, data []byte) []object {
	t.Helper()
	var out []object
	for i, doc := range documents(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s, document %d: %v", name, i+1, err)
		}
		obj := newObject(tm.APIVersion, tm.Kind)
		if obj == nil {
			t.Fatalf("%s, document %d: %s %s is not a type this test knows", name, i+1, tm.APIVersion, tm.Kind)
		}
		if err := strict(doc, obj); err != nil {
			t.Fatalf("%s, document %d (%s): %v", name, i+1, tm.Kind, err)
		}
		out = append(out, object{file: name, obj: obj})
	}
	return out
}

// load decodes kustomization.yaml and every manifest it lists, and checks
// that it lists every YAML file of the folder.
func load(t *testing.T) (kustomization, []object) {
	t.Helper()
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := strict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" || k.Namespace != "ngic" {
		t.Fatalf("kustomization.yaml: %s %s namespace %q", k.APIVersion, k.Kind, k.Namespace)
	}
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	listed := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(files, listed) || len(slices.Compact(slices.Clone(listed))) != len(listed) {
		t.Fatalf("kustomization.yaml lists %v, the folder holds %v", listed, files)
	}
	var objs []object
	for _, f := range k.Resources {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decode(t, f, b)...)
	}
	return k, objs
}

func find[T any](objs []object, name string) *T {
	for _, o := range objs {
		if v, ok := o.obj.(*T); ok && any(v).(metav1.Object).GetName() == name {
			return v
		}
	}
	return nil
}

// TestManifests decodes the base and checks that its parts fit: the
// controller's configuration loads and is clustered with as many replicas
// as the StatefulSet runs, its probes ask /healthz on a declared port,
// every ConfigMap a pod mounts is in the base, and the Services select
// pods that exist.
func TestManifests(t *testing.T) {
	_, objs := load(t)
	cm := find[corev1.ConfigMap](objs, "ngic-controller")
	sts := find[appsv1.StatefulSet](objs, "ngic-controller")
	if cm == nil || sts == nil {
		t.Fatal("no ngic-controller ConfigMap or StatefulSet")
	}
	cfg, err := config.Parse("controller-configmap.yaml: controller.yaml", []byte(cm.Data["controller.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Cluster.Enabled || sts.Spec.Replicas == nil || int(*sts.Spec.Replicas) != cfg.Cluster.Replicas {
		t.Fatalf("cluster %+v, but the StatefulSet runs %v replicas", cfg.Cluster, sts.Spec.Replicas)
	}
	if sts.Spec.ServiceName == "" || find[corev1.Service](objs, sts.Spec.ServiceName) == nil {
		t.Fatalf("the StatefulSet's service %q is not in the base", sts.Spec.ServiceName)
	}
	if svc := find[corev1.Service](objs, sts.Spec.ServiceName); svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Fatalf("%s is not headless", svc.Name)
	}
	c := sts.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if !strings.HasSuffix(cfg.HTTP.Listen, ":9480") || ports["https"] != 9480 {
		t.Fatalf("http.listen %s, container ports %v", cfg.HTTP.Listen, ports)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || ports[p.HTTPGet.Port.String()] == 0 ||
			(p.HTTPGet.Scheme == corev1.URISchemeHTTPS) != (cfg.HTTP.TLS.CertFile != "") {
			t.Errorf("%s probe %+v: want /healthz on a declared port, HTTPS as http.tls says", name, p)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if mounts["state"] != cfg.StateDir || !slices.ContainsFunc(sts.Spec.VolumeClaimTemplates,
		func(p corev1.PersistentVolumeClaim) bool { return p.Name == "state" }) {
		t.Errorf("state_dir %s is not the state volume claim's mount (%v)", cfg.StateDir, mounts)
	}
	if mounts["inventory"] != cfg.Inventory {
		t.Errorf("inventory %s is not where the inventory ConfigMap is mounted (%v)", cfg.Inventory, mounts)
	}
	for _, o := range objs {
		checkPods(t, o, objs)
	}
}

// checkPods checks that a StatefulSet's pods mount ConfigMaps of the base
// and that a Service selects the pods of one of its StatefulSets.
func checkPods(t *testing.T, o object, objs []object) {
	switch v := o.obj.(type) {
	case *appsv1.StatefulSet:
		for _, vol := range v.Spec.Template.Spec.Volumes {
			if vol.ConfigMap != nil && find[corev1.ConfigMap](objs, vol.ConfigMap.Name) == nil {
				t.Errorf("%s: %s mounts ConfigMap %s, not in the base", o.file, v.Name, vol.ConfigMap.Name)
			}
		}
		for _, c := range v.Spec.Template.Spec.Containers {
			for _, e := range c.EnvFrom {
				if e.ConfigMapRef != nil && find[corev1.ConfigMap](objs, e.ConfigMapRef.Name) == nil {
					t.Errorf("%s: %s reads ConfigMap %s, not in the base", o.file, v.Name, e.ConfigMapRef.Name)
				}
			}
		}
		if !equalLabels(v.Spec.Selector.MatchLabels, v.Spec.Template.Labels) {
			t.Errorf("%s: %s selects %v, its pods have %v", o.file, v.Name, v.Spec.Selector.MatchLabels, v.Spec.Template.Labels)
		}
	case *corev1.Service:
		for _, other := range objs {
			if s, ok := other.obj.(*appsv1.StatefulSet); ok && equalLabels(v.Spec.Selector, s.Spec.Template.Labels) {
				return
			}
		}
		t.Errorf("%s: Service %s selects %v: no pod of the base", o.file, v.Name, v.Spec.Selector)
	}
}

// equalLabels tells whether every label of sel is in labels.
func equalLabels(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestManifestsStrict proves that the decoding is strict: a misspelt
// field, a field at the wrong level and a value of the wrong type each
// fail.
func TestManifestsStrict(t *testing.T) {
	b, err := os.ReadFile("controller-statefulset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, "controller-statefulset.yaml", b) // the file as shipped decodes
	for _, c := range []struct{ from, to string }{
		{"  replicas: 3", "  replica: 3"},
		{"  serviceName:", "  servicename:"},
		{"              path: /healthz", "              path: /healthz\n              paht: /x"},
		{"  replicas: 3", "  replicas: three"},
		{"  replicas: 3", "  replicas: 3\n  replicas: 4"},
	} {
		bad := strings.Replace(string(b), c.from, c.to, 1)
		if bad == string(b) {
			t.Fatalf("%q not in the manifest", c.from)
		}
		var sts appsv1.StatefulSet
		if err := strict([]byte(bad), &sts); err == nil {
			t.Errorf("%q for %q decoded without an error", c.to, c.from)
		}
	}
}
