// Package deploy holds the tests of what deploys gp2gp: the container image
// (docker/Dockerfile) and the Kubernetes manifests (k8s/, kustomize base
// and overlays). They render the overlays with the kustomize API, decode
// every object strictly into its Kubernetes API type and check the
// properties production relies on; see k8s/README.md.
package deploy
