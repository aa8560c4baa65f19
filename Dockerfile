# One image for both the API (default command) and the worker (command: node dist/bin/worker.js).
# Build stage: compile TypeScript and pre-build the workflow bundle.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY activities ./activities
COPY bin ./bin
COPY db ./db
COPY runtime ./runtime
COPY services ./services
COPY workflows ./workflows
RUN npm run build && node dist/bin/bundle-workflows.js dist/workflow-bundle.js

# Runtime stage: production dependencies and compiled JavaScript only (no TypeScript loader:
# smaller and about 60 MB less memory per process).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
# The workers run the bundle built above, not the bundler at every start.
ENV HOST=0.0.0.0 PORT=3000 WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
EXPOSE 3000
CMD ["node", "dist/bin/api.js"]
