# One image for both the API (default command) and the worker (command: npm run worker).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY api ./api
COPY activities ./activities
COPY bin ./bin
COPY db ./db
COPY runtime ./runtime
COPY scripts ./scripts
COPY services ./services
COPY workflows ./workflows
COPY tsconfig.json ./
# The workers run a bundle built here, not the bundler at every start.
RUN node --import tsx bin/bundle-workflows.ts /app/dist/workflow-bundle.js
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
USER node
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["node", "--import", "tsx", "bin/api.ts"]
