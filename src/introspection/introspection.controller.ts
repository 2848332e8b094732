import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROFILE_ROWS } from '../protocol/profiles';
import { INTROSPECTION_JWT, IntrospectionPipeline } from './introspection-pipeline';

/** docs/api.md §11.2: `POST /token/introspect`, always 200 once the caller is admitted. */
@Controller()
export class IntrospectionController {
  constructor(private readonly pipeline: IntrospectionPipeline) {}

  @Post(PROFILE_ROWS.introspect.route)
  @HttpCode(200)
  async introspect(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    const answer = await this.pipeline.introspect(request);
    // RFC 9110 §12.5.5: the answer depends on Accept.
    reply.header('vary', 'accept');
    if (answer.type === 'jwt') reply.type(INTROSPECTION_JWT);
    return answer.body;
  }
}
