-- CreateEnum
CREATE TYPE "tier" AS ENUM ('free', 'standard', 'enterprise');

-- CreateTable
CREATE TABLE "organizations" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tier" "tier" NOT NULL DEFAULT 'free',
    "stytch_organization_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "organizations_stytch_organization_id_key" ON "organizations"("stytch_organization_id");
