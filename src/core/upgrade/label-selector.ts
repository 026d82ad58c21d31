/**
 * Whether labels match a metav1.LabelSelector, as the API server decides it: every matchLabels pair and
 * every matchExpressions term (In, NotIn, Exists, DoesNotExist). An empty selector matches everything;
 * no selector matches nothing (a PodDisruptionBudget without one selects no pod).
 */
import type { V1LabelSelector } from "@kubernetes/client-node";

export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: V1LabelSelector | undefined,
): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (l[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const value = l[expression.key];
    const has = value !== undefined;
    const values = expression.values ?? [];
    if (expression.operator === "In" && !(has && values.includes(value))) return false;
    if (expression.operator === "NotIn" && has && values.includes(value)) return false;
    if (expression.operator === "Exists" && !has) return false;
    if (expression.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
