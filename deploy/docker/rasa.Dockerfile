# The Rasa server of the Milea assistant (docker-compose.yml services rasa1, rasa2).
# Everything is installed here, at build time; the container only starts `rasa run`.
FROM rasa/rasa:3.6.21-full

USER root
WORKDIR /app
COPY requirements/rasa.txt requirements/rasa-constraints.txt /tmp/requirements/
# The constraints pin python-socketio 5.8 (a newer one breaks Rasa 3.6's socket.io rooms).
RUN pip install --no-cache-dir -r /tmp/requirements/rasa.txt -c /tmp/requirements/rasa-constraints.txt \
    && rm -rf /tmp/requirements
COPY --chown=1001:0 . /app
RUN mkdir -p /data && chown 1001:0 /data

# The image's own non-root user; the trained model comes from ./models (a read-only mount).
USER 1001
ENV PYTHONPATH=/app MILEA_DATA_DIR=/data RASA_TELEMETRY_ENABLED=false
EXPOSE 5005
ENTRYPOINT []
CMD ["python", "-m", "scripts.serve_rasa", "--port", "5005", "--model", "/app/models/milea.tar.gz"]
