/** What a worker reports about itself: identity, versions and configuration minus secrets. */
import os from 'node:os';
import { describeConfig, type Config } from '../config/config';
import type { WorkerHealth } from '../contracts/connector';

export function workerHealth(config: Config, identity: string): WorkerHealth {
  return {
    worker: identity,
    hostname: os.hostname(),
    pid: process.pid,
    node: process.version,
    uptimeSeconds: Math.round(process.uptime()),
    configuration: describeConfig(config),
  };
}
