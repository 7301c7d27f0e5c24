FROM registry.invalid/nothere:1
RUN true
