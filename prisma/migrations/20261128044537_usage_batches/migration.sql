-- CreateTable
CREATE TABLE "usage_batches" (
    "id" TEXT NOT NULL,
    "applied_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_batches_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "usage_batches_applied_at_idx" ON "usage_batches"("applied_at");
