import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { RunHostCommand } from '../../application/messages';
import type { CommandResponse, RequestMeta } from '../../application/request-meta';
import type { HostCommand } from '../../domain/commands';

/** Writes a command's answer as it is: its status, and its body unless there is none (204). */
export function sendResponse(res: Response, response: CommandResponse): void {
  res.status(response.status);
  if (response.body === undefined || response.body === null) res.end();
  else res.json(response.body);
}

/** Dispatches a host command and sends the status and body the handler answered (the first answer again on an idempotent repeat). */
@Injectable()
export class CommandSender {
  constructor(private readonly commandBus: CommandBus) {}

  async run(res: Response, command: HostCommand, meta: RequestMeta, successStatus: number, hostId?: string): Promise<void> {
    const response = await this.commandBus.execute<RunHostCommand, CommandResponse>(new RunHostCommand(command, meta, successStatus, hostId));
    sendResponse(res, response);
  }
}
