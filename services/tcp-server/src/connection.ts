import type { Socket } from 'node:net';
import {
  bodyLengthOf,
  checkFileName,
  clientMessageSchema,
  encodeFrameHeader,
  FrameDecoder,
  LabError,
  TCP_PROTOCOL_VERSION,
  type ClientMessage,
  type ServerMessage,
} from '@lab/protocol';
import { asLabError, readFrames, writeChunk, type Logger } from '@lab/runtime';
import type { FileStore, Upload } from './file-store.ts';

export interface ConnectionLimits {
  maxHeaderBytes: number;
  maxFileBytes: number;
}

export interface ConnectionContext {
  store: FileStore;
  log: Logger;
  limits: ConnectionLimits;
  serverName: string;
}

/**
 * One accepted connection: hello first, then any number of put/get requests, one at a time.
 * A request refused before its body (bad name, too large) closes the connection after the error reply,
 * because the body that follows would otherwise have to be read and thrown away.
 */
export async function serveConnection(socket: Socket, ctx: ConnectionContext): Promise<void> {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const decoder = new FrameDecoder<ClientMessage>({
    schema: clientMessageSchema,
    bodyLength: bodyLengthOf,
    maxHeaderBytes: ctx.limits.maxHeaderBytes,
  });
  const send = (message: ServerMessage) => socket.write(encodeFrameHeader(message));
  const refuse = (error: LabError) => {
    ctx.log.warn('refused', { peer, code: error.code, msg: `refused ${peer}: ${error.code} ${error.message}` });
    send({ type: 'error', code: error.code, message: error.message });
  };

  let greeted = false;
  let upload: Upload | null = null;
  try {
    for await (const event of readFrames<ClientMessage>(socket, decoder)) {
      if (event.kind === 'body') {
        await upload!.write(event.data);
        continue;
      }
      if (event.kind === 'body-end') {
        const current = upload!;
        upload = null;
        try {
          const stored = await current.commit();
          ctx.log.info('transfer-end', { peer, direction: 'upload', ...stored });
          send({ type: 'stored', ...stored });
        } catch (error) {
          refuse(asLabError(error));
        }
        continue;
      }
      const message = event.message;
      if (!greeted) {
        if (message.type !== 'hello') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected hello, got ${message.type}`);
        if (message.version !== TCP_PROTOCOL_VERSION) {
          throw new LabError('LAB_ERR_UNSUPPORTED_VERSION', `this server speaks version ${TCP_PROTOCOL_VERSION}, not ${message.version}`);
        }
        greeted = true;
        send({ type: 'welcome', version: TCP_PROTOCOL_VERSION, server: ctx.serverName, maxFileBytes: ctx.limits.maxFileBytes });
        continue;
      }
      switch (message.type) {
        case 'hello':
          throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', 'hello was already exchanged');
        case 'put': {
          const badName = checkFileName(message.name);
          if (badName) throw badName;
          if (message.size > ctx.limits.maxFileBytes) {
            throw new LabError('LAB_ERR_FILE_TOO_LARGE', `${message.size} bytes is above the limit of ${ctx.limits.maxFileBytes}`);
          }
          ctx.log.info('transfer-start', { peer, direction: 'upload', name: message.name, size: message.size });
          upload = ctx.store.beginUpload(message);
          break;
        }
        case 'get':
          await sendFile(socket, ctx, message.name, peer).catch((error: unknown) => {
            const labError = asLabError(error);
            if (labError.code !== 'LAB_ERR_NOT_FOUND' && labError.code !== 'LAB_ERR_BAD_FILE_NAME') throw labError;
            refuse(labError);
          });
          break;
      }
    }
  } catch (error) {
    const labError = asLabError(error);
    if (labError.code === 'LAB_ERR_CONNECTION' || labError.code === 'LAB_ERR_TRUNCATED') {
      ctx.log.warn('peer-vanished', { peer, code: labError.code, msg: `${peer} went away: ${labError.message}` });
    } else if (!socket.destroyed) {
      refuse(labError);
    } else {
      ctx.log.error('connection-error', { peer, code: labError.code, msg: `${peer}: ${labError.code} ${labError.message}` });
    }
  } finally {
    await upload?.abort();
    if (!socket.destroyed) lingeringClose(socket);
  }
}

/** How long a refused client may go on sending before the connection is reset anyway. */
const LINGER_MS = 2000;

/**
 * Sends FIN but keeps reading and discarding what the client still sends (a body we refused) for a
 * moment. Closing with unread data makes the kernel answer with a RST (RFC 1122 §4.2.2.13), and on
 * some stacks a RST discards received data the client has not read yet: our error reply. (Linux keeps
 * it readable, so the loopback test passes either way; this is for every other peer.)
 */
function lingeringClose(socket: Socket): void {
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Sends the `file` header and then the bytes. Once the header is out, a failure can no longer be
 * reported in-band (the client is counting body bytes), so the connection is destroyed instead.
 */
async function sendFile(socket: Socket, ctx: ConnectionContext, name: string, peer: string): Promise<void> {
  const opened = await ctx.store.openStored(name);
  ctx.log.info('transfer-start', { peer, direction: 'download', ...opened.file });
  socket.write(encodeFrameHeader({ type: 'file', ...opened.file } satisfies ServerMessage));
  if (opened.file.size === 0) return opened.close();
  const stream = opened.stream();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      await writeChunk(socket, chunk).catch((error: unknown) => {
        throw new LabError('LAB_ERR_CONNECTION', (error as Error).message, { cause: error });
      });
    }
  } catch (error) {
    socket.destroy();
    if (error instanceof LabError) throw error;
    throw new LabError('LAB_ERR_STORAGE', `cannot read ${name}: ${(error as Error).message}`, { cause: error });
  } finally {
    stream.destroy(); // closes the file descriptor also when the client vanished mid-way
  }
  ctx.log.info('transfer-end', { peer, direction: 'download', ...opened.file });
}
