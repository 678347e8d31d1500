import { Logger } from '@nestjs/common';
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

/** kafkajs logs below this level are never produced: info and debug would flood the log. */
export const KAFKA_LOG_LEVEL = logLevel.WARN;

/**
 * While a broker is down kafkajs logs every retry of every connection; the same message
 * repeated within this window is counted instead of printed, and the count is shown with
 * its next print.
 */
const REPEAT_WINDOW_MS = 30_000;
const MAX_REMEMBERED = 500;

/** kafkajs' logger, mapped onto ours (NestJS Logger, context "Kafka"). */
export function kafkaLogCreator(logger: Pick<Logger, 'warn' | 'error'> = new Logger('Kafka')): logCreator {
  const recent = new Map<string, { printedAt: number; suppressed: number }>();
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, stack: _stack, ...extra } = log;
      // A broker's error answer is retried or acted on (rejoin, metadata refresh) by the layer
      // above, which logs the outcome if it gives up: the raw answer is noise.
      if (namespace === 'Connection' && message.startsWith('Response ')) return;
      // Numbers (retry delays, ports, counts) differ between repeats of the same complaint.
      const key = `${level}|${namespace}|${message.replace(/\d+/g, '#')}`;
      const now = Date.now();
      const seen = recent.get(key);
      if (seen && now - seen.printedAt < REPEAT_WINDOW_MS) {
        seen.suppressed++;
        return;
      }
      if (recent.size >= MAX_REMEMBERED) recent.clear();
      recent.set(key, { printedAt: now, suppressed: 0 });
      const repeats = seen?.suppressed ? ` (repeated ${seen.suppressed} times)` : '';
      // An object message: our JSON logger writes its members as fields.
      const entry = { ...extra, msg: `${namespace}: ${message}${repeats}` };
      if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error(entry);
      else logger.warn(entry);
    };
}
