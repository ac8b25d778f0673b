-- CreateEnum
CREATE TYPE "leak_response" AS ENUM ('revoke', 'notify');

-- AlterTable
ALTER TABLE "organizations" ADD COLUMN     "leak_response" "leak_response" NOT NULL DEFAULT 'revoke';

-- CreateTable
CREATE TABLE "leaked_key_reports" (
    "id" TEXT NOT NULL,
    "api_key_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "url_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "leaked_key_reports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "leaked_key_reports_api_key_id_url_hash_key" ON "leaked_key_reports"("api_key_id", "url_hash");

-- AddForeignKey
ALTER TABLE "leaked_key_reports" ADD CONSTRAINT "leaked_key_reports_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
