{{/* Chart name, truncated to the 63 characters Kubernetes allows. */}}
{{- define "exposurewatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release name plus chart name, unless overridden. */}}
{{- define "exposurewatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "exposurewatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object; pass (dict "ctx" $ "component" "worker"). */}}
{{- define "exposurewatch.labels" -}}
helm.sh/chart: {{ include "exposurewatch.chart" .ctx }}
{{ include "exposurewatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: exposurewatch
{{- end }}

{{- define "exposurewatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "exposurewatch.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "exposurewatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "exposurewatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "exposurewatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Environment of every exposurewatch container: settings, then secrets by reference only. */}}
{{- define "exposurewatch.env" -}}
- name: EXPOSUREWATCH_BUS_URL
  value: {{ .Values.config.busUrl | quote }}
{{- if .Values.storeUrlSecret.name }}
- name: EXPOSUREWATCH_STORE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storeUrlSecret.name }}
      key: {{ .Values.storeUrlSecret.key }}
{{- else }}
- name: EXPOSUREWATCH_STORE_URL
  value: {{ .Values.config.storeUrl | quote }}
{{- end }}
- name: EXPOSUREWATCH_TOPIC_PREFIX
  value: {{ .Values.config.topicPrefix | quote }}
- name: EXPOSUREWATCH_KAFKA_PARTITIONS
  value: {{ .Values.config.kafkaPartitions | quote }}
- name: EXPOSUREWATCH_INDEX_PREFIX
  value: {{ .Values.config.indexPrefix | quote }}
- name: EXPOSUREWATCH_HUB_URL
  value: {{ .Values.config.hubUrl | quote }}
- name: EXPOSUREWATCH_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: EXPOSUREWATCH_METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: EXPOSUREWATCH_METRICS_ADDR
  value: "0.0.0.0"
{{- if .Values.hfTokenSecret.name }}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.hfTokenSecret.name }}
      key: {{ .Values.hfTokenSecret.key }}
{{- end }}
{{- if .Values.fingerprintKeySecret.name }}
- name: EXPOSUREWATCH_FINGERPRINT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.fingerprintKeySecret.name }}
      key: {{ .Values.fingerprintKeySecret.key }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every workload. */}}
{{- define "exposurewatch.podSpec" -}}
serviceAccountName: {{ include "exposurewatch.serviceAccountName" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* One exposurewatch container; pass (dict "ctx" $ "name" "worker" "args" (list ...) "resources" {...}). */}}
{{- define "exposurewatch.container" -}}
- name: {{ .name }}
  image: {{ include "exposurewatch.image" .ctx }}
  imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
  args:
    {{- toYaml .args | nindent 4 }}
  env:
    {{- include "exposurewatch.env" .ctx | nindent 4 }}
  ports:
    - name: metrics
      containerPort: {{ .ctx.Values.metrics.port }}
      protocol: TCP
  securityContext:
    {{- toYaml .ctx.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}
