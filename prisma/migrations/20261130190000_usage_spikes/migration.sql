-- CreateTable
CREATE TABLE "api_key_usage_hours" (
    "api_key_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(0) NOT NULL,
    "distinct_ips" INTEGER NOT NULL DEFAULT 0,
    "baseline_requests" DOUBLE PRECISION,
    "baseline_ips" DOUBLE PRECISION,

    CONSTRAINT "api_key_usage_hours_pkey" PRIMARY KEY ("api_key_id","hour")
);

-- CreateTable
CREATE TABLE "api_key_usage_flags" (
    "api_key_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(0) NOT NULL,
    "kind" TEXT NOT NULL,
    "observed" INTEGER NOT NULL,
    "baseline" DOUBLE PRECISION NOT NULL,
    "raised_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_key_usage_flags_pkey" PRIMARY KEY ("api_key_id","hour","kind")
);

-- AddForeignKey
ALTER TABLE "api_key_usage_hours" ADD CONSTRAINT "api_key_usage_hours_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_key_usage_flags" ADD CONSTRAINT "api_key_usage_flags_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
