# Freeway as a container: a thin wrapper around scripts/install-and-start.sh, which the test suite
# runs for real (test/e2e/install.test.ts). Build from a checkout: docker build -t freeway .
# The first stage packs the checkout as npm would publish it; the second installs that package with
# production dependencies only and starts it. See the README's "Deploying" section.
FROM node:24-bookworm-slim AS pack
COPY . /src
RUN sh /src/scripts/install-and-start.sh pack /src /pack

FROM node:24-bookworm-slim
COPY scripts/install-and-start.sh /usr/local/bin/freeway-install-and-start
COPY --from=pack /pack/ /tmp/pack/
RUN freeway-install-and-start install /tmp/pack/freeway-*.tgz && rm -rf /tmp/pack /root/.npm \
  && mkdir -p /var/lib/freeway && chown node:node /var/lib/freeway
USER node
# ./data/freeway.db (SQLite) lives here unless DATABASE_URL names PostgreSQL.
WORKDIR /var/lib/freeway
VOLUME /var/lib/freeway
ENV FREEWAY_LOG=info
EXPOSE 8080
# exec'd by the script, so Freeway is PID 1's only child and gets SIGTERM for a clean shutdown.
CMD ["freeway-install-and-start", "start"]
