/**
 * The lab dashboard's type: Grafana's published Dashboard type (npm @grafana/schema, the version
 * in package.json matches the Grafana image in compose.yaml) with a small allowance for what a
 * provisioned JSON file legitimately holds but those types do not say:
 *
 * - String enums: JSON has no enums, so `"mode": "absolute"` stands for ThresholdsMode.Absolute.
 * - Defaults: dashboard links may omit the flags Grafana fills in when it loads a dashboard.
 * - Data-source specifics: @grafana/schema types a query as the generic DataQuery; the Prometheus
 *   data source (@grafana/prometheus) adds `expr` and friends to a query, reads an annotation's
 *   title, text and tag options from the annotation itself, and its variable editor stores the
 *   query text as `definition`.
 *
 * Anything else Grafana does not know (a misspelt field, an annotation's old top-level `expr`)
 * is an excess property of an object literal, and `tsc --noEmit` reports it.
 */
import type { AnnotationQuery, Dashboard, DataQuery, VariableModel } from "@grafana/schema";

type Loose<T> = T extends string
  ? T | `${T}`
  : T extends Array<infer U>
    ? Array<Loose<U>>
    : T extends object
      ? { [K in keyof T]: Loose<T[K]> }
      : T;

type Defaulted<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
type DashboardLink = NonNullable<Dashboard["links"]>[number];

interface PrometheusQuery extends DataQuery {
  expr: string;
  interval?: string;
  legendFormat?: string;
  format?: string;
  instant?: boolean;
  range?: boolean;
}

interface PrometheusAnnotation extends AnnotationQuery<PrometheusQuery> {
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
}

interface QueryVariable extends VariableModel {
  definition?: string;
}

type LabDashboard = Omit<Dashboard, "links" | "annotations" | "templating"> & {
  links?: Array<Defaulted<DashboardLink, "asDropdown" | "includeVars" | "keepTime" | "tags">>;
  annotations?: { list?: Array<AnnotationQuery | PrometheusAnnotation> };
  templating?: { list?: QueryVariable[] };
};

export type ProvisionedDashboard = Loose<LabDashboard>;
