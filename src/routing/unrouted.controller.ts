import { All, Controller, NotFoundException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ENTERPRISE_PREFIXES } from './enterprise';

/**
 * Unknown paths under the Enterprise prefixes are still routed — here — so that the guards run
 * and a lower-tier organization learns nothing about which sub-paths exist (CONTRACT §6).
 * The router prefers every real route over these wildcards.
 */
@ApiExcludeController()
@Controller()
export class EnterpriseFallbackController {
  @All(ENTERPRISE_PREFIXES.flatMap((prefix) => [`v1/${prefix}`, `v1/${prefix}/*`]))
  notFound(): never {
    // The error filter words it as for any unrouted path (404, or 405 for a known path).
    throw new NotFoundException();
  }
}
