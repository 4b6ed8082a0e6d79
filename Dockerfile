# The jc-notion image: workers (`jc-notion worker`) and admin commands. Only the product: the
# product build (no harness/: emulators, local stack, Temporal CLI tooling) and the runtime
# dependencies (ADR 0008); `jc-notion local` says it is a development command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build:product && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
USER node
ENTRYPOINT ["node", "bin/jc-notion.js"]
CMD ["worker"]
