import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { RunHostCommand } from '../../application/messages';
import type { CommandResponse, RequestMeta } from '../../application/request-meta';
import type { HostCommand } from '../../model/commands';

/** Writes a command's answer as it is: its status, and its body unless there is none (204). */
export function sendResponse(res: FastifyReply, response: CommandResponse): void {
  void res.status(response.status).send(response.body ?? undefined);
}

/** Dispatches a host command and sends the status and body the handler answered (the first answer again on an idempotent repeat). */
@Injectable()
export class CommandSender {
  constructor(private readonly commandBus: CommandBus) {}

  async run(res: FastifyReply, command: HostCommand, meta: RequestMeta, successStatus: number, hostId?: string): Promise<void> {
    const response = await this.commandBus.execute<RunHostCommand, CommandResponse>(new RunHostCommand(command, meta, successStatus, hostId));
    sendResponse(res, response);
  }
}
