import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'lv:public';

/** The route needs no credential (health, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
