# The action servers, the jobs process, the widget page, the staff console and the one-shot
# steps (migrate, index) of the Milea assistant: one image, the command picks the process.
# Everything is installed here, at build time; nothing is installed when a container starts.
# The widget's socket.io client (npm, no browser test tools), built apart.
FROM node:20-slim AS widget
WORKDIR /widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM rasa/rasa-sdk:3.6.2

USER root
WORKDIR /app
# pg_dump/pg_restore for `jobs.datacare backup|restore` (the client of the postgres:15 service)
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/actions.txt requirements/actions-constraints.txt /tmp/requirements/
RUN pip install --no-cache-dir -r /tmp/requirements/actions.txt -c /tmp/requirements/actions-constraints.txt \
    && rm -rf /tmp/requirements
COPY --chown=1001:0 . /app
COPY --from=widget --chown=1001:0 /widget/node_modules /app/widget/node_modules
# wordllama's embedding files ship inside its package: nothing is downloaded at run time.
RUN mkdir -p /data && chown 1001:0 /data

USER 1001
ENV PYTHONPATH=/app MILEA_DATA_DIR=/data
EXPOSE 5055
ENTRYPOINT []
CMD ["python", "-m", "scripts.modes", "--checks", "commerce7", "--then", "rasa_sdk", "--actions", "actions", "--port", "5055"]
