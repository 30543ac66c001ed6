{{- define "tmo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tmo.serviceAccountName" -}}
{{- default (include "tmo.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "tmo.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tmo.labels" -}}
{{ include "tmo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tmo.tag" -}}
{{- default .Chart.AppVersion .tag -}}
{{- end -}}

{{/*
What the operator does in the namespaces it watches, and nothing more (see the RBAC table of
docs/operator.md). No Secrets. ConfigMaps create/get are not used by the operator itself: it must hold them
to grant them to the trainer's Role (RBAC forbids granting what one does not have).
*/}}
{{- define "tmo.rules" -}}
- apiGroups: ["trading.mlops.dev"]
  resources: ["tradingmodels"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["trading.mlops.dev"]
  resources: ["modelversions"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: ["trading.mlops.dev"]
  resources: ["tradingmodels/status", "modelversions/status"]
  verbs: ["patch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["create", "patch"]
# delete: a rollout's canary or preview Deployment goes once it is promoted or rolled back.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["list", "watch", "create", "patch", "delete"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["list", "watch", "create", "patch", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# The model's alert rules and predictor scrape config (docs/monitoring.md), server-side applied;
# the rules are watched, with the Warning Events a rule loader records on one it refused.
- apiGroups: ["monitoring.coreos.com"]
  resources: ["prometheusrules"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["podmonitors"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["list", "watch"]
{{- end -}}
