/** What a worker reports about itself: identity, versions and configuration minus secrets. */
import os from 'node:os';
import { describeConfig, type Config } from '../config/config';

export interface WorkerHealth {
  worker: string;
  hostname: string;
  pid: number;
  node: string;
  /** Seconds since the worker process started. */
  uptimeSeconds: number;
  /** Configuration as shown to admins: secrets are "set"/"unset". */
  configuration: Record<string, string | number | string[]>;
}

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
