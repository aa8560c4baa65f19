import { createServer, type Server } from 'node:http';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { metricsRegistry } from '../services/lib/metrics';
import type { Logger } from './logger';
import { metricsAllowed } from './metrics-access';

/**
 * Installs the Temporal runtime with its Prometheus exporter on 127.0.0.1:<port> (call before any
 * worker or native connection). Returns that endpoint's URL, merged into /metrics.
 */
export function installTemporalTelemetry(port: number, logLevel = 'info'): string | undefined {
  const level: LogLevel = ({ trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' } as Record<string, LogLevel>)[logLevel] ?? 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(level),
    ...(port === 0 ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } } }),
  });
  return port === 0 ? undefined : `http://127.0.0.1:${port}/metrics`;
}

/**
 * The worker's /metrics (it serves no API): Nurture's counters and the Temporal SDK's; and its
 * /healthz for the container's health check: 200 while the Temporal workers run (`health` says
 * RUNNING), 503 once they stop, drain or fail.
 */
export function startMetricsServer(host: string, port: number, temporalMetricsUrl: string | undefined, logger: Logger, token?: string, health?: () => string): Server {
  const server = createServer((req, res) => {
    if (req.url === '/healthz' && health) {
      const state = health();
      res.writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: state === 'RUNNING' ? 'ok' : 'unavailable', worker: state }));
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    if (!metricsAllowed(req.headers.authorization, token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    void (async () => {
      let text = await metricsRegistry.metrics();
      if (temporalMetricsUrl) text += await fetch(temporalMetricsUrl).then((r) => r.text()).catch(() => '');
      res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text);
    })();
  });
  server.listen(port, host, () => logger.info({ metrics: `http://${host}:${port}/metrics` }, 'worker metrics'));
  return server;
}
