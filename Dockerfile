# One image for the API (default command), the worker (node dist/bin/worker.js) and the one-shot
# commands (dist/bin/migrate.js, dist/bin/create-key.js, dist/bin/healthcheck.js), on Node 24 LTS.
# (The tests run on the machine's Node, >= 20.19; the compiled code targets ES2022 either way.)
# Build stage: compile TypeScript and pre-build the workflow bundle.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY api ./api
COPY bin ./bin
COPY db ./db
COPY journey-language ./journey-language
COPY runtime ./runtime
COPY services ./services
COPY workflows ./workflows
RUN npm run build && node dist/bin/bundle-workflows.js dist/workflow-bundle.js

# Runtime stage: production dependencies and compiled JavaScript only (no TypeScript loader:
# smaller and about 60 MB less memory per process).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
# DATA_DIR (.data) belongs to the process's user: the worker writes the signed audit checkpoints
# under .data/audit-checkpoints unless AUDIT_CHECKPOINT_DIR or a bucket says otherwise.
RUN mkdir -p .data/audit-checkpoints && chown -R node:node .data
USER node
# The workers run the bundle built above, not the bundler at every start.
ENV HOST=0.0.0.0 PORT=3000 WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
EXPOSE 3000
CMD ["node", "dist/bin/api.js"]
