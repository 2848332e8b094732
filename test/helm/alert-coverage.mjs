// Fails unless every alert of the chart's PrometheusRule (rules.yaml, rendered by check-chart.sh)
// is tested by alerts.test.yaml both firing and not firing; additional rules from the values are
// the user's, not the chart's. Usage: node alert-coverage.mjs <rules.yaml> <alerts.test.yaml> [names to skip…]
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const [rulesFile, testsFile, ...skip] = process.argv.slice(2);
const alerts = parse(readFileSync(rulesFile, 'utf8'))
  .groups.flatMap((group) => group.rules)
  .map((rule) => rule.alert)
  .filter((name) => name && !skip.includes(name));
const cases = parse(readFileSync(testsFile, 'utf8')).tests.flatMap((test) => test.alert_rule_test ?? []);
const missing = alerts.flatMap((name) => {
  const mine = cases.filter((c) => c.alertname === name);
  return [
    ...(mine.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${name} firing`]),
    ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${name} not firing`]),
  ];
});
if (missing.length > 0) {
  console.error(`alerts.test.yaml does not test: ${missing.join(', ')}`);
  process.exit(1);
}
console.log(`alerts: each of the chart's ${alerts.length} alerts is tested firing and not firing`);
