# One image for every ftgo-mesh service: the sources run with tsx, as in `make up`.
# Each compose service picks its entry point: node --import tsx services/<name>/src/main.ts
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
ENV FTGO_HOST=0.0.0.0 DATA_DIR=/data NODE_ENV=production
VOLUME /data
