// Sending many queue messages at once: sendBatch in groups within the platform's limits (100
// messages and 256 KB per call), the size counted in bytes of the JSON bodies.
import { MAX_SEND_BATCH_BYTES, MAX_SEND_BATCH_MESSAGES } from "../domain/queue-messages";
import { jsonByteLength } from "../domain/utf8";

export async function sendInBatches<T>(queue: Queue<T>, bodies: Array<{ body: T; delaySeconds?: number }>): Promise<void> {
  let batch: Array<MessageSendRequest<T>> = [];
  let bytes = 0;
  for (const item of bodies) {
    const size = jsonByteLength(item.body);
    if (batch.length > 0 && (batch.length === MAX_SEND_BATCH_MESSAGES || bytes + size > MAX_SEND_BATCH_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body: item.body, contentType: "json", delaySeconds: item.delaySeconds });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}
