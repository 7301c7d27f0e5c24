FROM busybox:latest
COPY missing.txt /x
