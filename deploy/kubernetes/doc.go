// Package kubernetes holds the kustomize base that runs ngic past one
// machine: a StatefulSet of controller replicas sharing the fleet
// (controller/cluster), a clustered EMQX broker with shared subscriptions,
// and InfluxDB. Its test decodes every manifest strictly into the
// Kubernetes API types, so that a misspelt field fails, and loads the
// controller's configuration from its ConfigMap.
package kubernetes
