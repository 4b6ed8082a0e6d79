/** `jc-notion worker`: runs one worker of the cluster until SIGINT or SIGTERM. */
import { loadConfig, secretValues } from '../../config/config';
import { currentSecretValues } from '../../config/secrets';
import { createLogger } from '../../common/logger';
import { startWorker } from '../../worker/worker';

export async function workerCommand(): Promise<void> {
  const config = loadConfig('worker');
  const logger = createLogger({
    level: config.logLevel,
    secrets: () => currentSecretValues(secretValues(config), config.secretFiles),
  });
  const running = await startWorker(config, logger);
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping worker: in-flight activities get 10 s to finish');
    void running.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
  logger.info('worker stopped');
}
