import { All, Controller, NotFoundException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

/**
 * Every /v1 path no real route takes — any method — lands here (already authenticated and
 * admitted by the onRequest hook), so the TierGuard still runs: the Enterprise gate answers
 * before anything else, and a lower-tier organization learns nothing about which gated
 * sub-paths or methods exist (CONTRACT §6). The router prefers every real route over this wildcard.
 */
@ApiExcludeController()
@Controller()
export class UnroutedController {
  @All('v1/*')
  notFound(): never {
    // The error filter words it as for any unrouted path: 404, or 405 for a known path.
    throw new NotFoundException();
  }
}
