import 'server-only';
import { checkPushKey } from '../auth';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import type { Metrics } from '../metrics';
import type { Route } from './router';

/**
 * GET /metrics, Prometheus text format, on the main port behind
 * `Authorization: Bearer <METRICS_TOKEN>`: one port to expose per node, and a
 * scraper anywhere in the cluster reaches it as a balancer's health check does.
 * Without METRICS_TOKEN it is open in development and does not exist in
 * production (boot.ts leaves the route out).
 */
export function metricsRoutes(deps: { metrics: Metrics; token: string | undefined }): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      name: 'metrics',
      handler: async (req) => {
        if (!checkPushKey(req.header('authorization'), deps.token)) {
          throw new HttpError(401, ErrorCodes.unauthorized, 'missing or wrong metrics token (Authorization: Bearer <METRICS_TOKEN>)', {
            'www-authenticate': 'Bearer realm="herald-metrics"',
          });
        }
        return { status: 200, text: await deps.metrics.registry.metrics(), headers: { 'content-type': deps.metrics.registry.contentType } };
      },
    },
  ];
}
