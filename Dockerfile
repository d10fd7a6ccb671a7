FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY drizzle ./drizzle
COPY tsconfig.json ./
ENV NODE_ENV=production
ENTRYPOINT ["node", "bin/sevsync.cjs"]
CMD ["worker"]
