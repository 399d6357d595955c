// The co-simulation rows' Icarus Verilog side: the shared transaction sequence (the file of
// bench/VirtioHw.Benchmarks Cosim/TransactionSequence.cs, one 64-bit hex word per transaction) run
// on ism_endpoint_top's bar0_* slave with the steps of SignalDriver: drive the inputs, let them settle, sample the
// ready/valid outputs, clock; ready and valid are sampled before the edge that takes them.
//
//   vvp endpoint_bench.vvp +SEQ=FILE +N=TRANSACTIONS      prints "checksum C cycles K"
`default_nettype none
`timescale 1ns / 1ps

module endpoint_bench_tb;
  localparam int Length = 1000;  // TransactionSequence.Length
  localparam int Timeout = 100;

  logic        clk = 1'b0;
  logic        rst_n = 1'b0;
  logic [13:0] awaddr = '0, araddr = '0;
  logic        awvalid = 1'b0, wvalid = 1'b0, bready = 1'b0, arvalid = 1'b0, rready = 1'b0;
  logic [31:0] wdata = '0;
  logic [3:0]  wstrb = '0;
  wire         awready, wready, bvalid, arready, rvalid;
  wire  [1:0]  bresp, rresp;
  wire  [31:0] rdata;

  always #5 clk = ~clk;

  // The sequence drives bar0_*; the other slaves stay idle, the memory master is never acknowledged
  // (BAR0 never starts it) and MSI messages are never taken, as in the Verilated runs.
  ism_endpoint_top dut (
    .clk_i(clk), .rst_ni(rst_n),
    .bar0_awaddr_i(awaddr), .bar0_awvalid_i(awvalid), .bar0_awready_o(awready),
    .bar0_wdata_i(wdata), .bar0_wstrb_i(wstrb), .bar0_wvalid_i(wvalid), .bar0_wready_o(wready),
    .bar0_bresp_o(bresp), .bar0_bvalid_o(bvalid), .bar0_bready_i(bready),
    .bar0_araddr_i(araddr), .bar0_arvalid_i(arvalid), .bar0_arready_o(arready),
    .bar0_rdata_o(rdata), .bar0_rresp_o(rresp), .bar0_rvalid_o(rvalid), .bar0_rready_i(rready),
    .cfg_awaddr_i('0), .cfg_awvalid_i(1'b0), .cfg_awready_o(), .cfg_wdata_i('0), .cfg_wstrb_i('0),
    .cfg_wvalid_i(1'b0), .cfg_wready_o(), .cfg_bresp_o(), .cfg_bvalid_o(), .cfg_bready_i(1'b0),
    .cfg_araddr_i('0), .cfg_arvalid_i(1'b0), .cfg_arready_o(), .cfg_rdata_o(), .cfg_rresp_o(),
    .cfg_rvalid_o(), .cfg_rready_i(1'b0),
    .bar1_awaddr_i('0), .bar1_awvalid_i(1'b0), .bar1_awready_o(), .bar1_wdata_i('0), .bar1_wstrb_i('0),
    .bar1_wvalid_i(1'b0), .bar1_wready_o(), .bar1_bresp_o(), .bar1_bvalid_o(), .bar1_bready_i(1'b0),
    .bar1_araddr_i('0), .bar1_arvalid_i(1'b0), .bar1_arready_o(), .bar1_rdata_o(), .bar1_rresp_o(),
    .bar1_rvalid_o(), .bar1_rready_i(1'b0),
    .bar2_awaddr_i('0), .bar2_awvalid_i(1'b0), .bar2_awready_o(), .bar2_wdata_i('0), .bar2_wstrb_i('0),
    .bar2_wvalid_i(1'b0), .bar2_wready_o(), .bar2_bresp_o(), .bar2_bvalid_o(), .bar2_bready_i(1'b0),
    .bar2_araddr_i('0), .bar2_arvalid_i(1'b0), .bar2_arready_o(), .bar2_rdata_o(), .bar2_rresp_o(),
    .bar2_rvalid_o(), .bar2_rready_i(1'b0),
    .fw_awaddr_i('0), .fw_awvalid_i(1'b0), .fw_awready_o(), .fw_wdata_i('0), .fw_wstrb_i('0),
    .fw_wvalid_i(1'b0), .fw_wready_o(), .fw_bresp_o(), .fw_bvalid_o(), .fw_bready_i(1'b0),
    .fw_araddr_i('0), .fw_arvalid_i(1'b0), .fw_arready_o(), .fw_rdata_o(), .fw_rresp_o(),
    .fw_rvalid_o(), .fw_rready_i(1'b0),
    .mem_req_o(), .mem_we_o(), .mem_addr_o(), .mem_be_o(), .mem_wdata_o(), .mem_ack_i(1'b0), .mem_rdata_i('0),
    .msi_valid_o(), .msi_ready_i(1'b0), .msi_addr_o(), .msi_data_o(), .fw_irq_o()
  );

  logic [63:0] sequence_q [Length];
  longint cycles = 0;
  always @(posedge clk) cycles <= cycles + 1;

  task automatic tick();
    @(posedge clk);
    #1;
  endtask

  task automatic guard(inout int n, input string what);
    n++;
    if (n > Timeout) $fatal(1, "endpoint_bench_tb: %s not done within %0d cycles", what, Timeout);
  endtask

  task automatic axi_write(input logic [31:0] address, input logic [31:0] data);
    bit aw = 0, w = 0, aw_taken, w_taken;
    int n = 0;
    logic [1:0] response;
    awaddr = address[13:0];
    wdata = data;
    wstrb = 4'hf;
    awvalid = 1;
    wvalid = 1;
    bready = 1;
    while (!(aw && w)) begin
      #1;
      aw_taken = !aw && awready;
      w_taken = !w && wready;
      tick();
      guard(n, "write address/data");
      if (aw_taken) begin aw = 1; awvalid = 0; end
      if (w_taken) begin w = 1; wvalid = 0; end
    end
    #1;
    while (!bvalid) begin
      tick();
      guard(n, "write response");
      #1;
    end
    response = bresp;
    tick();
    bready = 0;
    if (response != 0) $fatal(1, "endpoint_bench_tb: write of 0x%0h: response %0d", address, response);
  endtask

  task automatic axi_read(input logic [31:0] address, output logic [31:0] data);
    bit taken;
    int n = 0;
    logic [1:0] response;
    araddr = address[13:0];
    arvalid = 1;
    rready = 1;
    do begin
      #1;
      taken = arready;
      tick();
      guard(n, "read address");
    end while (!taken);
    arvalid = 0;
    #1;
    while (!rvalid) begin
      tick();
      guard(n, "read response");
      #1;
    end
    data = rdata;
    response = rresp;
    tick();
    rready = 0;
    if (response != 0) $fatal(1, "endpoint_bench_tb: read of 0x%0h: response %0d", address, response);
  endtask

  initial begin : run
    string path;
    int count;
    logic [31:0] data, checksum = 0;
    logic [63:0] t;
    longint start;
    if (!$value$plusargs("SEQ=%s", path)) $fatal(1, "endpoint_bench_tb: +SEQ=FILE is required");
    if (!$value$plusargs("N=%d", count)) count = Length;
    $readmemh(path, sequence_q);
    repeat (2) @(posedge clk);
    #1 rst_n = 1;
    start = cycles;
    for (int i = 0; i < count; i++) begin
      // Assigned, not initialised: a declaration's initialiser in a loop body runs once, at time 0.
      t = sequence_q[i % Length];
      if (t[63:56] != 0) axi_write({8'h0, t[55:32]}, t[31:0]);
      else begin
        axi_read({8'h0, t[55:32]}, data);
        if (i < Length) checksum += data;
      end
    end
    $display("checksum %0d cycles %0d", checksum, cycles - start);
    $finish;
  end
endmodule

`default_nettype wire
