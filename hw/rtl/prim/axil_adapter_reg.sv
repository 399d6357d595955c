`default_nettype none

// AXI4-Lite slave to a register interface (the counterpart of OpenTitan's tlul_adapter_reg): one
// transaction at a time, always OKAY. The write (AW and W, in either order) or the read is taken,
// then held on the register side (we_o or re_o, with its word address, data and strobes) until
// done_i; a read's data (rdata_i) is taken in the clock done_i is high. Then the response is held
// until the master takes it. A read waits while a write is on offer or half taken, so the two
// never interleave. Every generated register block (hw/rtl/gen/*_reg_top.sv) and the endpoint's
// demultiplexers use it.
module axil_adapter_reg #(
  parameter int unsigned AW = 12  // address bits the slave decodes
) (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,
  input  wire axil_pkg::axil_req_t axil_req_i,
  output axil_pkg::axil_rsp_t      axil_rsp_o,
  // Register side: one access, held until done_i
  output logic                     we_o,
  output logic                     re_o,
  output logic [AW-1:0]            addr_o,   // byte address; bits 1:0 are 0
  output logic [31:0]              wdata_o,
  output logic [3:0]               wstrb_o,
  input  wire logic                done_i,   // the access ends at the end of this clock
  input  wire logic [31:0]         rdata_i   // read data, taken with done_i
);

  typedef enum logic [2:0] {
    StIdle,       // accepting AW, W and AR
    StWrite,      // performing the write
    StRead,       // performing the read
    StWriteResp,  // B valid
    StReadResp    // R valid
  } state_e;

  state_e        state_q, state_d;
  logic          aw_held_q, aw_held_d;  // AW taken, W not yet
  logic          w_held_q, w_held_d;    // W taken, AW not yet
  logic [AW-1:2] addr_q, addr_d;
  logic [31:0]   wdata_q, wdata_d;
  logic [3:0]    wstrb_q, wstrb_d;
  logic [31:0]   rdata_q, rdata_d;
  logic          aw_hs, w_hs, ar_hs;

  always_comb begin
    axil_rsp_o         = axil_pkg::AXIL_RSP_IDLE;
    axil_rsp_o.awready = state_q == StIdle && !aw_held_q;
    axil_rsp_o.wready  = state_q == StIdle && !w_held_q;
    axil_rsp_o.arready = state_q == StIdle && !aw_held_q && !w_held_q && !axil_req_i.awvalid &&
                         !axil_req_i.wvalid;
    axil_rsp_o.bvalid  = state_q == StWriteResp;
    axil_rsp_o.rvalid  = state_q == StReadResp;
    axil_rsp_o.rdata   = rdata_q;
  end

  assign aw_hs = axil_req_i.awvalid && axil_rsp_o.awready;
  assign w_hs  = axil_req_i.wvalid && axil_rsp_o.wready;
  assign ar_hs = axil_req_i.arvalid && axil_rsp_o.arready;

  always_comb begin
    state_d   = state_q;
    aw_held_d = aw_held_q;
    w_held_d  = w_held_q;
    addr_d    = addr_q;
    wdata_d   = wdata_q;
    wstrb_d   = wstrb_q;
    rdata_d   = rdata_q;
    unique case (state_q)
      StIdle: begin
        if (aw_hs) begin
          addr_d    = axil_req_i.awaddr[AW-1:2];
          aw_held_d = 1'b1;
        end
        if (w_hs) begin
          wdata_d  = axil_req_i.wdata;
          wstrb_d  = axil_req_i.wstrb;
          w_held_d = 1'b1;
        end
        if (aw_held_d && w_held_d) begin
          aw_held_d = 1'b0;
          w_held_d  = 1'b0;
          state_d   = StWrite;
        end else if (ar_hs) begin
          addr_d  = axil_req_i.araddr[AW-1:2];
          state_d = StRead;
        end
      end
      StWrite: begin
        if (done_i) state_d = StWriteResp;
      end
      StRead: begin
        if (done_i) begin
          state_d = StReadResp;
          rdata_d = rdata_i;
        end
      end
      StWriteResp: begin
        if (axil_req_i.bready) state_d = StIdle;
      end
      StReadResp: begin
        if (axil_req_i.rready) state_d = StIdle;
      end
      default: state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= StIdle;
      aw_held_q <= 1'b0;
      w_held_q  <= 1'b0;
      addr_q    <= '0;
      wdata_q   <= '0;
      wstrb_q   <= '0;
      rdata_q   <= '0;
    end else begin
      state_q   <= state_d;
      aw_held_q <= aw_held_d;
      w_held_q  <= w_held_d;
      addr_q    <= addr_d;
      wdata_q   <= wdata_d;
      wstrb_q   <= wstrb_d;
      rdata_q   <= rdata_d;
    end
  end

  assign we_o    = state_q == StWrite;
  assign re_o    = state_q == StRead;
  assign addr_o  = {addr_q, 2'b00};
  assign wdata_o = wdata_q;
  assign wstrb_o = wstrb_q;

  // The address bits above AW belong to whoever decoded the slave.
  logic unused_addr;
  assign unused_addr = ^{axil_req_i.awaddr, axil_req_i.araddr};

`ifndef SYNTHESIS
  initial begin : check_aw
    assert (AW >= 3 && AW <= 32) else $fatal(1, "axil_adapter_reg: AW must be 3..32, not %0d", AW);
    // The widths flat link vectors use (axil_pkg) must be the structs'.
    assert ($bits(axil_req_i) == axil_pkg::AXIL_REQ_W && $bits(axil_rsp_o) == axil_pkg::AXIL_RSP_W)
      else $fatal(1, "axil_adapter_reg: axil_pkg's AXIL_REQ_W/AXIL_RSP_W disagree with the structs");
  end

  // The master holds a request, unchanged, until it is taken (AXI A3.2.1).
  axil_aw_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_req_i.awvalid && !axil_rsp_o.awready |=> axil_req_i.awvalid && $stable(axil_req_i.awaddr[AW-1:0]));
  axil_w_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_req_i.wvalid && !axil_rsp_o.wready |=>
      axil_req_i.wvalid && $stable(axil_req_i.wdata) && $stable(axil_req_i.wstrb));
  axil_ar_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_req_i.arvalid && !axil_rsp_o.arready |=> axil_req_i.arvalid && $stable(axil_req_i.araddr[AW-1:0]));
  // So does the slave with its responses.
  axil_b_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_rsp_o.bvalid && !axil_req_i.bready |=> axil_rsp_o.bvalid);
  axil_r_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_rsp_o.rvalid && !axil_req_i.rready |=> axil_rsp_o.rvalid && $stable(axil_rsp_o.rdata));
  // One response per request: a response is only offered for an access that was taken.
  axil_b_one: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_rsp_o.bvalid && axil_req_i.bready |=> !axil_rsp_o.bvalid);
  axil_r_one: assert property (@(posedge clk_i) disable iff (!rst_ni)
    axil_rsp_o.rvalid && axil_req_i.rready |=> !axil_rsp_o.rvalid);
  axil_b_after_write: assert property (@(posedge clk_i) disable iff (!rst_ni)
    $rose(axil_rsp_o.bvalid) |-> $past(we_o && done_i));
  axil_r_after_read: assert property (@(posedge clk_i) disable iff (!rst_ni)
    $rose(axil_rsp_o.rvalid) |-> $past(re_o && done_i));
  // No X leaves the slave once out of reset.
  axil_rsp_known: assert property (@(posedge clk_i) disable iff (!rst_ni)
    !$isunknown({axil_rsp_o.awready, axil_rsp_o.wready, axil_rsp_o.bvalid, axil_rsp_o.arready,
                 axil_rsp_o.rvalid, axil_rsp_o.rdata}));
  // The register side answers only what was asked.
  axil_rdata_known: assert property (@(posedge clk_i) disable iff (!rst_ni)
    re_o && done_i |-> !$isunknown(rdata_i));
`endif

endmodule

`default_nettype wire
